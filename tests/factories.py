"""Builders for the data most tests start from: tenants, people, and a municipality ("town") set up
for cases or for rules and proactive service. Fixtures in conftest.py are thin wrappers around these."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from api.database import database
from support.oauth import REDIRECT, bearer, data, register, token, user_token
from tenants.models import Tenant
from tenants.operations import create_tenant
from townhall.auth.models import User
from townhall.auth.operations import add_membership, add_team_member, create_team, create_user, delegate
from townhall.auth.scopes import CASE_WORKER, TENANT_ADMIN
from townhall.services.operations import configure_service
from townhall.tenancy import tenant_scope

PASSWORD = "correct horse battery"
PEOPLE = ("jan", "an", "admin", "worker")
CASE_PEOPLE = ("jan", "an", "worker", "backoffice")
CASE_SCOPES = "cases:read cases:write"
TENANT_DEFAULTS: dict[str, Any] = {"default_language": "nl", "languages": ["nl", "fr"]}


def tenant_data(slug: str, nis_code: str, **overrides: Any) -> dict[str, Any]:
    """What create_tenant takes: Dutch and French names from the slug unless overridden."""
    return TENANT_DEFAULTS | {"slug": slug, "nis_code": nis_code,
                              "names": {"nl": slug.title(), "fr": slug.title() + " (fr)"}} | overrides


def build_tenant(app: Flask, slug: str, nis_code: str, **overrides: Any) -> Tenant:
    """A committed tenant (committed when the unit of work ends)."""
    with app.app_context(), database().unit_of_work() as session:
        return create_tenant(session, tenant_data(slug, nis_code, **overrides), "test")


def build_people(session: Session, names: tuple[str, ...], display: Callable[[str], str] = str) -> dict[str, User]:
    """Users name@example.org with PASSWORD, by name."""
    return {name: create_user(session, {"email": f"{name}@example.org", "display_name": display(name),
                                        "password": PASSWORD}) for name in names}


@dataclass(frozen=True)
class Town:
    """One municipality: its tenant, its citizen portal's client id, and request headers by person."""

    tenant: Tenant
    portal: str
    headers: dict[str, dict[str, str]]

    def rule(self, client: FlaskClient, body: dict[str, Any], activate: bool = True) -> dict[str, Any]:
        created = client.post("/t/aalst/v1/rules", json=body, headers=self.headers["admin"])
        assert created.status_code == 201, created.get_data(as_text=True)
        if not activate:
            return dict(data(created))
        active = client.post(f"/t/aalst/v1/rules/{data(created)['id']}/activation",
                             json={"version": data(created)["latest_version"]},
                             headers=self.headers["admin"] | {"If-Match": created.headers["ETag"]})
        assert active.status_code == 200, active.get_data(as_text=True)
        return dict(data(active))

    def event(self, client: FlaskClient, event_id: str, kind: str, person: str, **details: Any) -> Any:
        body = {"specversion": "1.0", "id": event_id, "source": "urn:register:test", "type": kind,
                "datacontenttype": "application/json",
                "data": {"person": {"ref": f"p-{person}", "email": f"{person}@example.org"}, **details}}
        return client.post("/t/aalst/v1/events", json=body, headers=self.headers["register"])


def build_case_town(app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant]) -> Town:
    """Aalst for cases: citizens jan and an, a case worker, a back office delegated eID cards, a partner."""
    tenant = make_tenant("aalst", "41002")
    with app.app_context(), database().unit_of_work() as session:
        people = build_people(session, CASE_PEOPLE)
        team = create_team(session, "dender", "Dender back office")
        add_team_member(session, team, people["backoffice"])
        with tenant_scope(session, tenant.id):
            add_membership(session, tenant.id, people["worker"], CASE_WORKER)
            delegate(session, tenant.id, team, "eid-card", "test")
            for code, fee in (("eid-card", 2500), ("parking-permit", 5000), ("certificate", 0)):
                configure_service(session, tenant.id, code, {"fee_cents": fee, "processing_days": 10})
    portal = register(app, tenant, CASE_SCOPES.split(), kind="public", grant_types=["authorization_code"],
                      redirect_uris=[REDIRECT]).client_id
    headers = {name: bearer(user_token(app, portal, f"{name}@example.org", PASSWORD, CASE_SCOPES))
               for name in CASE_PEOPLE}
    headers["partner"] = bearer(token(client, register(app, tenant, CASE_SCOPES.split())))
    return Town(tenant, portal, headers)


def build_rules_town(app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant]) -> Town:
    """Aalst for rules and proactive service: an admin, a case worker, citizens, a partner register."""
    tenant = make_tenant("aalst", "41002")
    with app.app_context(), database().unit_of_work() as session:
        people = build_people(session, PEOPLE, str.title)
        team = create_team(session, "dender", "Dender back office")
        add_team_member(session, team, people["worker"])
        with tenant_scope(session, tenant.id):
            add_membership(session, tenant.id, people["admin"], TENANT_ADMIN)
            add_membership(session, tenant.id, people["worker"], CASE_WORKER)
            delegate(session, tenant.id, team, "eid-card", "test")
            for code, fee in (("eid-card", 2500), ("certificate", 0), ("parking-permit", 5000)):
                configure_service(session, tenant.id, code, {"fee_cents": fee, "processing_days": 10})
    scopes = "cases:read cases:write config:write"
    portal = register(app, tenant, scopes.split(), kind="public", grant_types=["authorization_code"],
                      redirect_uris=[REDIRECT]).client_id
    headers = {name: bearer(user_token(app, portal, f"{name}@example.org", PASSWORD,
                                       scopes if name == "admin" else "cases:read cases:write"))
               for name in PEOPLE}
    headers["register"] = bearer(token(client, register(app, tenant, ["events:write"])))
    return Town(tenant, portal, headers)
