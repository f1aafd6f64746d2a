"""A citizen's own data, whole (GDPR Art. 15 and 20): `GET /t/<tenant>/v1/me/export` for one
municipality, `GET /v1/me/export` for every municipality of the platform. Each export is recorded in
the municipality's audit trail (what kinds and how many, never the data)."""

from datetime import UTC, datetime
from typing import Any

from flask import Response, current_app, g, request

from api.database import session
from api.oauth.protect import requires
from api.platform.routes import platform_api
from api.principal import person_id
from api.tenant_api import tenant_api
from tenants.queries import all_tenants
from townhall.audit.operations import append
from townhall.auth.models import User
from townhall.errors import NotFound
from townhall.privacy.queries import counts, person_export, person_view
from townhall.tenancy import tenant_scope


def _person() -> User:
    found = session().get(User, person_id())
    if found is None:
        raise NotFound("No such person.")
    return found


def _exported(body: dict[str, Any], filename: str) -> Response:
    response = Response(current_app.json.dumps(body), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _audited(tenant_id: Any, person: User, export: dict[str, Any]) -> None:
    append(session(), tenant_id, f"user:{person.id}", f"GET {request.url_rule.rule if request.url_rule else ''}",
           request.path, {"status": 200, "export": counts(export)})


@tenant_api.get("/me/export")
@requires("cases:read")
def my_export_here() -> Response:
    """Everything this municipality holds on the signed-in person."""
    person = _person()
    export = person_export(session(), g.tenant.id, person)
    _audited(g.tenant.id, person, export)
    body = {"exported_at": datetime.now(UTC).isoformat(), "municipality": g.tenant.slug, **export}
    return _exported(body, f"townhall-{g.tenant.slug}-export.json")


@platform_api.get("/me/export")
@requires("cases:read")
def my_export_everywhere() -> Response:
    """Everything every municipality of the platform holds on the signed-in person: one section per
    municipality that holds anything (visiting each municipality in turn)."""
    person = _person()
    sections = []
    for tenant in all_tenants(session()):
        with tenant_scope(session(), tenant.id):
            export = person_export(session(), tenant.id, person)
            if any(export[kind] for kind in export if kind != "person"):
                _audited(tenant.id, person, export)
                sections.append({"municipality": tenant.slug, **{k: v for k, v in export.items() if k != "person"}})
    body = {"exported_at": datetime.now(UTC).isoformat(), "person": person_view(person),
            "municipalities": sections}
    return _exported(body, "townhall-export.json")

