"""A citizen's own data, whole (GDPR Art. 15 and 20): every kind a municipality holds on them, none
of another person's or municipality's, and each export recorded in the audit trail."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.database import database
from factories import PASSWORD, build_people
from support.contract import assert_problem
from support.evidence import eid_form
from support.oauth import REDIRECT, bearer, data, register, register_platform_client, token, user_token
from tenants.models import Tenant
from townhall.appointments.models import Appointment
from townhall.proactive.models import LifeEvent, ProactiveAction, ProactivePreference
from townhall.rules.models import Resident
from townhall.services.operations import configure_service
from townhall.tenancy import tenant_scope

pytestmark = pytest.mark.usefixtures("signing_key")


def _holdings(app: Flask, tenant: Tenant, person_id: object, ref: str) -> None:
    """One row of each kind that is not made through the case API."""
    now = datetime.now(UTC)
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, tenant.id):
        session.add(Resident(tenant_id=tenant.id, person_ref=ref, user_id=person_id, birth_date=None,
                             address={"street": "Kerkstraat 1"}, resident=True, eid_expires_on=None))
        session.add(LifeEvent(tenant_id=tenant.id, event_id=f"ev-{ref}", type="person.moved-in", source="register",
                              person_ref=ref, data={"street": "Kerkstraat 1"}, outcome={}))
        session.add(ProactiveAction(tenant_id=tenant.id, rule_id=tenant.id, rule_version=1, person_ref=ref,
                                    user_id=person_id, trigger_key=f"t-{ref}", action="inform", status="informed",
                                    service=None, form={}, message="Welkom"))
        session.add(ProactivePreference(tenant_id=tenant.id, user_id=person_id, opted_out=["offer"]))
        session.add(Appointment(tenant_id=tenant.id, office_tenant_id=tenant.id, office_id=tenant.id,
                                service="eid-card", starts_at=now + timedelta(days=3),
                                ends_at=now + timedelta(days=3, minutes=15), citizen_id=person_id,
                                created_by="test"))
        session.flush()  # in the municipality's scope


@pytest.fixture
def town(app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant]) -> dict[str, object]:
    aalst, ninove = make_tenant("aalst", "41002"), make_tenant("ninove", "41048")
    with app.app_context(), database().unit_of_work() as session:
        people = build_people(session, ("jan", "els"))
        ids = {name: person.id for name, person in people.items()}
        for tenant in (aalst, ninove):
            with tenant_scope(session, tenant.id):
                configure_service(session, tenant.id, "eid-card", {})
    for name in ("jan", "els"):
        _holdings(app, aalst, ids[name], f"ref-{name}")
    partner = bearer(token(client, register(app, aalst, ["cases:read", "cases:write"])))
    for name in ("jan", "els"):
        case = data(client.post("/t/aalst/v1/cases", json={"service": "eid-card", "form": eid_form(),
                                                           "citizen": f"{name}@example.org"}, headers=partner))
        client.post(f"/t/aalst/v1/cases/{case['id']}/messages", json={"body": f"Vraag van {name}"}, headers=partner)
    ninove_partner = bearer(token(client, register(app, ninove, ["cases:read", "cases:write"])))
    client.post("/t/ninove/v1/cases", json={"service": "eid-card", "form": eid_form(), "citizen": "jan@example.org"},
                headers=ninove_partner)
    portal = register(app, aalst, ["cases:read"], kind="public", grant_types=["authorization_code"],
                      redirect_uris=[REDIRECT]).client_id
    return {"aalst": aalst, "jan": bearer(user_token(app, portal, "jan@example.org", PASSWORD, "cases:read")),
            "partner": partner}


def test_a_citizen_gets_everything_the_municipality_holds_on_them_and_nothing_else(
    client: FlaskClient, town: dict[str, object]
) -> None:
    answer = client.get("/t/aalst/v1/me/export", headers=town["jan"])
    assert answer.status_code == 200 and "attachment" in answer.headers["Content-Disposition"]
    export = data(answer)
    assert export["person"]["email"] == "jan@example.org" and export["municipality"] == "aalst"
    for kind in ("register", "cases", "appointments", "life_events", "proactive_actions", "proactive_preferences"):
        assert len(export[kind]) == 1, kind
    [case] = export["cases"]
    assert case["steps"] and case["documents"] and case["decisions"]
    assert [m["body"] for m in case["messages"]] == ["Vraag van jan"]
    assert "storage_key" not in case["documents"][0] and case["documents"][0]["sha256"]
    text = answer.get_data(as_text=True)
    assert "els@example.org" not in text and "ref-els" not in text and "Vraag van els" not in text  # nobody else's
    assert "ninove" not in text  # nor another municipality's


def test_every_export_is_in_the_audit_trail_without_the_data(
    app: Flask, client: FlaskClient, town: dict[str, object]
) -> None:
    client.get("/t/aalst/v1/me/export", headers=town["jan"])
    auditor = bearer(token(client, register(app, town["aalst"], ["audit:read"])))  # type: ignore[arg-type]
    [entry] = data(client.get("/t/aalst/v1/audit?object=/t/aalst/v1/me/export", headers=auditor))["items"]
    assert entry["action"] == "GET /t/<slug:tenant>/v1/me/export" and entry["actor"].startswith("user:")
    assert entry["summary"]["export"] == {"person": 1, "register": 1, "cases": 1, "appointments": 1,
                                          "life_events": 1, "proactive_actions": 1, "proactive_preferences": 1}
    assert "Kerkstraat" not in str(entry)


def test_a_client_acting_for_itself_has_no_one_to_export(client: FlaskClient, town: dict[str, object]) -> None:
    assert_problem(client.get("/t/aalst/v1/me/export", headers=town["partner"]), 403)


def test_the_platform_export_covers_every_municipality_that_holds_something(
    app: Flask, client: FlaskClient, town: dict[str, object]
) -> None:
    portal = register_platform_client(app, name="Mijn Gemeentehuis", kind="public",
                                      grant_types=["authorization_code"], redirect_uris=[REDIRECT],
                                      scopes=["cases:read"]).client_id
    jan = bearer(user_token(app, portal, "jan@example.org", PASSWORD, "cases:read"))
    export = data(client.get("/v1/me/export", headers=jan))
    assert export["person"]["email"] == "jan@example.org"
    sections = {section["municipality"]: section for section in export["municipalities"]}
    assert set(sections) == {"aalst", "ninove"}
    assert len(sections["ninove"]["cases"]) == 1 and sections["ninove"]["register"] == []
