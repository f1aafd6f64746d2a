"""The caller of this request: the `Principal` that `@requires` built from the verified token."""

import uuid

from flask import g

from townhall.auth.principal import Principal
from townhall.errors import Forbidden


def principal() -> Principal:
    """Only inside a route guarded by `@requires` (which builds it once, from the checked claims)."""
    found: Principal = g.principal
    return found


def person_id() -> uuid.UUID:
    """The signed-in person; a client's token is refused (403) where only a person makes sense."""
    found = principal().person_id
    if found is None:
        raise Forbidden("This is a person's own: call it with the token of a signed-in person.")
    return found
