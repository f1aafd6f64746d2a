"""GET /t/<tenant>/v1/admin/changes (`config:write`): every change of the municipality's
configuration, newest first: who, when, and each field from what to what."""

import uuid
from datetime import datetime
from typing import Any

from flask import Response, g, request

from api.database import session
from api.http import bad_cursor, bad_parameter, page_params, paged
from api.oauth.protect import requires
from api.tenant_api import tenant_api
from townhall.changes.models import ConfigChange
from townhall.changes.queries import history

MAX_SUBJECT = 40  # the column's length


def _view(change: ConfigChange) -> dict[str, Any]:
    return {"id": str(change.id), "at": change.at.isoformat(), "actor": change.actor, "subject": change.subject,
            "changes": change.changes, "_cursor": f"{change.at.isoformat()}|{change.id}"}


def _position(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if cursor is None:
        return None
    at, _, change_id = cursor.partition("|")
    try:
        return datetime.fromisoformat(at), uuid.UUID(change_id)
    except ValueError as error:
        raise bad_cursor() from error


@tenant_api.get("/admin/changes")
@requires("config:write")
def list_changes() -> Response:
    """`subject` limits the list to one resource (`branding`, `service:eid-card`, …)."""
    limit, cursor = page_params()
    subject = request.args.get("subject")
    if subject is not None and not 1 <= len(subject) <= MAX_SUBJECT:
        raise bad_parameter(f"subject names a resource in 1 to {MAX_SUBJECT} characters.")
    found = history(session(), g.tenant.id, subject=subject, limit=limit + 1, before=_position(cursor))
    return paged([_view(change) for change in found], limit, key="_cursor", hide=("_cursor",))
