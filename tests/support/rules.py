"""A municipality set up for rules and proactive service: an admin, a partner register, citizens."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from api.database import database
from support.oauth import REDIRECT, bearer, data, register, token, user_token
from tenants.models import Tenant
from townhall.auth.operations import add_membership, add_team_member, create_team, create_user, delegate
from townhall.auth.scopes import CASE_WORKER, TENANT_ADMIN
from townhall.services.operations import configure_service
from townhall.tenancy import tenant_scope

PASSWORD = "correct horse battery"
PEOPLE = ("jan", "an", "admin", "worker")


@dataclass(frozen=True)
class Town:
    tenant: Tenant
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


def make_town(app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant]) -> Town:
    tenant = make_tenant("aalst", "41002")
    with app.app_context(), database().unit_of_work() as session:
        people = {name: create_user(session, {"email": f"{name}@example.org", "display_name": name.title(),
                                              "password": PASSWORD}) for name in PEOPLE}
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
    return Town(tenant, headers)
