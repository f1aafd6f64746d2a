"""Who is calling, from the access token the route's `@requires` accepted."""

import uuid

from authlib.integrations.flask_oauth2 import current_token

from townhall.errors import Forbidden


def is_client() -> bool:
    """A client acting for itself (a partner integration), not for a signed-in person."""
    return bool(current_token.get("principal_type") == "client")


def actor() -> str:
    """How the timeline and the config history name the caller: `client:<id>` or `user:<id>`."""
    return f"{'client' if is_client() else 'user'}:{current_token['sub']}"


def person_id() -> uuid.UUID:
    """The signed-in person; a client's token is refused (403) where only a person makes sense."""
    if is_client():
        raise Forbidden("This is a person's own: call it with the token of a signed-in person.")
    return uuid.UUID(current_token["sub"])
