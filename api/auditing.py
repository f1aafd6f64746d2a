"""One audit entry for every write request that changed something of a municipality: appended
just before the request's one commit, so the entry and the change commit together or not at all.

Audited: the municipality's API and console, and the platform's API and console where they change a
municipality (named by the path, or by the Location of one just made). A request that was refused
(4xx, 5xx) or wrote nothing (a preview, a no-op) leaves none. The OAuth endpoints are not: issuing a
token changes no municipality's data."""

from typing import Any

from flask import Response, g, request

from api.database import session
from api.tenant_api import tenant_cache
from townhall.audit.operations import append
from townhall.audit.writes import recorded, wrote
from townhall.tenancy import current_tenant_id, tenant_scope

AUDITED = frozenset({"tenant_api", "console", "platform_api", "consortium"})
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


def _actor() -> str:
    found = g.get("principal")
    if found is not None:
        return str(found.actor)
    console = g.get("console")  # the consortium's console: a platform operator
    return f"user:{console.user.id}" if console is not None and console.user is not None else "anonymous"


def _municipality_named() -> Any:
    """The municipality a platform request changed: its slug in the path, or in the Location of one
    it created."""
    slug = (request.view_args or {}).get("slug") or (request.view_args or {}).get("tenant")
    return tenant_cache().tenant(session(), slug) if isinstance(slug, str) else None


def audit_request(response: Response) -> None:
    current = g.get("db_session")
    if (current is None or request.method in SAFE or response.status_code >= 400
            or request.blueprint not in AUDITED or not wrote(current)):
        return
    location = response.headers.get("Location", "")
    object_ = location.split("://", 1)[-1].partition("/")[2] if response.status_code == 201 and location else ""
    summary: dict[str, Any] = {"status": response.status_code}
    if changes := [change for _, change in recorded(current)]:
        summary["changes"] = changes
    action = f"{request.method} {request.url_rule.rule if request.url_rule else request.path}"
    entry = (_actor(), action, "/" + object_ if object_ else request.path, summary)
    tenant_id = current_tenant_id()
    if tenant_id is not None:
        append(current, tenant_id, *entry)
        return
    if response.status_code == 201 and "/v1/tenants/" in location:  # a municipality just made
        named = tenant_cache().tenant(session(), location.rstrip("/").rsplit("/", 1)[-1])
    else:
        named = _municipality_named()
    if named is not None:
        with tenant_scope(current, named.id):
            append(current, named.id, *entry)
