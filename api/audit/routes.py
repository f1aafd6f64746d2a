"""GET /t/<tenant>/v1/audit (`audit:read`): the municipality's audit trail, oldest first, each entry
with its sequence number, its hash and the previous one (so a reader can check the links)."""

from datetime import datetime
from typing import Any

from flask import Response, g, request

from api.database import session
from api.http import bad_cursor, bad_parameter, page_params, paged
from api.oauth.protect import requires
from api.tenant_api import tenant_api
from townhall.audit.models import AuditEntry
from townhall.audit.queries import AuditFilter, audit_entries

MAX_FILTER = 300  # the longest column filtered on


def entry_view(entry: AuditEntry) -> dict[str, Any]:
    return {"seq": entry.seq, "time": entry.time.isoformat(), "actor": entry.actor, "action": entry.action,
            "object": entry.object, "summary": entry.summary, "previous": entry.previous, "hash": entry.hash}


def _text(name: str) -> str | None:
    value = request.args.get(name)
    if value is not None and not 1 <= len(value) <= MAX_FILTER:
        raise bad_parameter(f"{name} is 1 to {MAX_FILTER} characters.")
    return value


def _moment(name: str) -> datetime | None:
    value = request.args.get(name)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise bad_parameter(f"{name} is a date and time (ISO 8601 with its offset).") from error
    if moment.tzinfo is None:
        raise bad_parameter(f"{name} needs its offset (Z or +01:00).")
    return moment


@tenant_api.get("/audit")
@requires("audit:read")
def list_audit() -> Response:
    """Filters: `actor` (exact), `object` and `action` (prefixes), `from` and `to` (a period)."""
    limit, cursor = page_params()
    if cursor is not None and not (cursor.isdigit() and len(cursor) < 19):
        raise bad_cursor()
    wanted = AuditFilter(actor=_text("actor"), object_=_text("object"), action=_text("action"),
                         since=_moment("from"), until=_moment("to"))
    found = audit_entries(session(), g.tenant.id, wanted, int(cursor) if cursor else None, limit + 1)
    return paged([entry_view(entry) | {"_cursor": str(entry.seq)} for entry in found], limit, key="_cursor",
                 hide=("_cursor",))
