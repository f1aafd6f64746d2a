"""One audit entry for every write request that changed something of a municipality: appended
just before the request's one commit, so the entry and the change commit together or not at all.

Audited: the municipality's API and console, and the platform's API and console where they change a
municipality's configuration (an entry in each municipality changed, with its own changes only).
A request that was refused (4xx, 5xx) or wrote nothing (a preview, a no-op) leaves none. A read of
people's data (cases, appointments) by staff or a partner leaves one entry naming them. The OAuth
endpoints are not: issuing a token changes no municipality's data."""

import uuid
from typing import Any

from flask import Response, current_app, g, request
from sqlalchemy.orm import Session

from townhall.audit.operations import Entry, append, append_many
from townhall.audit.read_log import ReadLog
from townhall.audit.writes import persons_read, recorded, wrote
from townhall.tenancy import current_tenant_id, tenant_scope

AUDITED = frozenset({"tenant_api", "console", "platform_api", "consortium", "portal"})
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


def _actor() -> str:
    found = g.get("principal")
    if found is not None:
        return str(found.actor)
    console = g.get("console")  # the consortium's console: a platform operator
    return f"user:{console.user.id}" if console is not None and console.user is not None else "anonymous"


def audit_request(response: Response) -> tuple[uuid.UUID, Entry] | None:
    """Record this request; the municipality's own write's entry is returned, for the commit to
    append (townhall.audit.operations.append_and_commit)."""
    current = g.get("db_session")
    if current is None or response.status_code >= 400 or request.blueprint not in AUDITED:
        return None
    if request.method in SAFE:
        _audit_reads(current, response)
        return None
    if not wrote(current):
        return None
    location = response.headers.get("Location", "")
    object_ = location.split("://", 1)[-1].partition("/")[2] if response.status_code == 201 and location else ""
    action = f"{request.method} {request.url_rule.rule if request.url_rule else request.path}"
    object_ = "/" + object_ if object_ else request.path
    changes = recorded(current)
    tenant_id = current_tenant_id()
    if tenant_id is not None:  # the municipality's own API or console: every write, with what it recorded
        return tenant_id, Entry.now(_actor(), action, object_, _summary(response, [c for _, c in changes]))
    # The platform's API and console: an entry in each municipality whose configuration the request
    # changed (made, suspended, put on a plan, a delegation), with that municipality's changes only.
    by_tenant: dict[Any, list[dict[str, Any]]] = {}
    for changed_tenant, change in changes:
        by_tenant.setdefault(changed_tenant, []).append(change)
    for changed_tenant, its_changes in by_tenant.items():
        with tenant_scope(current, changed_tenant):
            append(current, changed_tenant, _actor(), action, object_, _summary(response, its_changes))
    return None


def _audit_reads(current: Session, response: Response) -> None:
    """A read of people's data by staff or a partner: one entry per municipality, naming the people
    (by id) and the route. A person reading their own data is not recorded."""
    found = g.get("principal")
    own = found.person_id if found is not None else None
    by_tenant: dict[uuid.UUID, set[uuid.UUID]] = {}
    for tenant_id, person in persons_read(current):
        if person != own:
            by_tenant.setdefault(tenant_id, set()).add(person)
    action = f"{request.method} {request.url_rule.rule if request.url_rule else request.path}"
    log: ReadLog | None = current_app.extensions.get("townhall.read_log")
    for tenant_id, persons in by_tenant.items():
        entry = Entry.now(_actor(), action, request.path,
                          {"status": response.status_code, "read": sorted(str(person) for person in persons)})
        if log is not None:  # appended beside the requests (townhall.audit.read_log)
            log.add(tenant_id, entry)
        elif tenant_id == current_tenant_id():
            append_many(current, tenant_id, [entry])
        else:
            with tenant_scope(current, tenant_id):
                append_many(current, tenant_id, [entry])


def _summary(response: Response, changes: list[dict[str, Any]]) -> dict[str, Any]:
    return {"status": response.status_code, **({"changes": changes} if changes else {})}
