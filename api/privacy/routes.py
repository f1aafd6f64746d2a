"""A person's data, whole (GDPR Art. 15 and 20), and its erasure (Art. 17).

The citizen: `GET /t/<tenant>/v1/me/export` for one municipality, `GET /v1/me/export` for every
municipality of the platform. The municipality's staff (`privacy:manage`), answering a request made
at the counter or by letter: `GET /t/<tenant>/v1/persons/<id>/export` and
`POST /t/<tenant>/v1/persons/<id>/erasure`. Each export is recorded in the municipality's audit trail
(what kinds and how many, never the data), as each erasure is (what went and what was kept)."""

import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Response, current_app, g, jsonify, request

from api.database import session
from api.oauth.protect import requires
from api.platform.routes import platform_api
from api.principal import person_id, principal
from api.tenant_api import tenant_api
from tenants.queries import all_tenants
from townhall.audit.operations import append
from townhall.audit.writes import note_change
from townhall.auth.models import User
from townhall.errors import NotFound
from townhall.privacy.operations import erase, holds_anything, summary
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


def _audited(tenant_id: Any, person: User, export: dict[str, Any], actor: str | None = None) -> None:
    append(session(), tenant_id, actor or f"user:{person.id}",
           f"GET {request.url_rule.rule if request.url_rule else ''}", request.path,
           {"status": 200, "export": counts(export), **({"person": str(person.id)} if actor else {})})


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



def _known_person(person_id: uuid.UUID) -> User:
    """A person this municipality holds something of (never tells of anyone else on the platform)."""
    found = session().get(User, person_id)
    if found is None or not holds_anything(session(), g.tenant.id, found.id):
        raise NotFound("This municipality holds nothing on such a person.")
    return found


@tenant_api.get("/persons/<uuid:person_id>/export")
@requires("privacy:manage")
def person_export_here(person_id: uuid.UUID) -> Response:
    """Staff: everything this municipality holds on one person (an access request made to it)."""
    person = _known_person(person_id)
    export = person_export(session(), g.tenant.id, person)
    _audited(g.tenant.id, person, export, principal().actor)
    body = {"exported_at": datetime.now(UTC).isoformat(), "municipality": g.tenant.slug, **export}
    return _exported(body, f"townhall-{g.tenant.slug}-{person.id}.json")


@tenant_api.post("/persons/<uuid:person_id>/erasure")
@requires("privacy:manage")
def erase_person(person_id: uuid.UUID) -> Response:
    """Staff: erase what this municipality holds on one person, but what a retention period still
    holds (pseudonymised when it ends); the answer says what went and what was kept, and why."""
    person = _known_person(person_id)
    here = g.tenant.id

    def held_elsewhere() -> bool:
        for tenant in all_tenants(session()):
            if tenant.id != here:
                with tenant_scope(session(), tenant.id):
                    if holds_anything(session(), tenant.id, person.id):
                        return True
        return person.is_platform_operator

    result = erase(session(), current_app.extensions["townhall.storage"], here, person, datetime.now(UTC),
                   held_elsewhere)
    body = {"person": str(person_id), **summary(result)}
    note_change(session(), here, f"erasure:{person_id}", {"erased": body["erased"], "account": result.account,
                                                          "kept": len(result.kept)})
    return jsonify(body)
