"""A person's own data, whole (GDPR Art. 15 and 20): every kind a municipality holds on them, none
of another person's or municipality's, each export recorded in the audit trail; and erasure
(Art. 17) with retention: nothing readable left but what a retention period holds, until it ends."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import String, Text, cast, func, or_, select, update

from api.cli import cli
from api.database import database
from factories import PASSWORD, build_people
from support.contract import assert_problem
from support.evidence import eid_form
from support.oauth import REDIRECT, bearer, data, register, register_platform_client, token, user_token
from tenants.models import Tenant
from townhall.appointments.models import Appointment
from townhall.auth.operations import create_user
from townhall.cases.models import Case
from townhall.db import Base
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


NAME, EMAIL, REGISTER_NUMBER = "Mira Van Damme-Oosterlinck", "mira.vandamme@example.org", "85073003361"


def _found_in(app: Flask, tenant: Tenant, needles: tuple[str, ...]) -> set[str]:
    """Every table whose text columns (JSON included) hold any of `needles`: what a person's data
    would still be readable in."""
    hits = set()
    with app.app_context(), database().sessions() as session, tenant_scope(session, tenant.id):
        for table in Base.metadata.sorted_tables:
            texts = [column for column in table.columns
                     if isinstance(column.type, (String, Text)) or column.type.__class__.__name__ == "JsonDocument"
                     or "JSON" in column.type.__class__.__name__.upper()]
            if not texts:
                continue
            wanted = or_(*(cast(column, Text).contains(needle) for column in texts for needle in needles))
            if session.execute(select(func.count()).select_from(table).where(wanted)).scalar():
                hits.add(table.name)
    return hits


def test_staff_export_a_person_s_data_and_every_export_is_audited(
    app: Flask, client: FlaskClient, town: dict[str, object]
) -> None:
    aalst = town["aalst"]
    staff = bearer(token(client, register(app, aalst, ["privacy:manage", "audit:read"])))  # type: ignore[arg-type]
    jan_id = data(client.get("/t/aalst/v1/me/export", headers=town["jan"]))["person"]["id"]
    export = data(client.get(f"/t/aalst/v1/persons/{jan_id}/export", headers=staff))
    assert export["person"]["email"] == "jan@example.org" and len(export["cases"]) == 1
    assert "Vraag van els" not in str(export)
    [entry] = data(client.get(f"/t/aalst/v1/audit?object=/t/aalst/v1/persons/{jan_id}/export",
                              headers=staff))["items"]
    assert entry["actor"].startswith("client:") and entry["summary"]["person"] == jan_id
    assert_problem(client.get(f"/t/aalst/v1/persons/{uuid.uuid4()}/export", headers=staff), 404)
    assert_problem(client.get(f"/t/aalst/v1/persons/{jan_id}/export", headers=town["partner"]), 403)


def test_erasure_leaves_nothing_readable_but_what_retention_holds_and_retention_ends_that_too(
    app: Flask, client: FlaskClient, town: dict[str, object]
) -> None:
    aalst = town["aalst"]
    assert isinstance(aalst, Tenant)
    with app.app_context(), database().unit_of_work() as session:
        mira = create_user(session, {"email": EMAIL, "display_name": NAME})
    _holdings(app, aalst, mira.id, REGISTER_NUMBER)
    partner = town["partner"]
    assert isinstance(partner, dict)
    created = client.post("/t/aalst/v1/cases", json={"service": "eid-card", "form": eid_form(), "citizen": EMAIL},
                          headers=partner)
    case = data(created)
    client.post(f"/t/aalst/v1/cases/{case['id']}/messages", json={"body": f"Vraag van {NAME}"}, headers=partner)
    cancelled = client.post(f"/t/aalst/v1/cases/{case['id']}/transitions", json={"to": "cancelled", "note": NAME},
                            headers=partner | {"If-Match": created.headers["ETag"]})
    assert cancelled.status_code == 200, cancelled.get_data(as_text=True)
    needles = (NAME, EMAIL, REGISTER_NUMBER)
    assert {"users", "residents", "life_events", "proactive_actions", "case_messages"} <= _found_in(app, aalst, needles)

    staff = bearer(token(client, register(app, aalst, ["privacy:manage", "audit:read"])))
    answer = client.post(f"/t/aalst/v1/persons/{mira.id}/erasure", headers=staff)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    result = data(answer)
    assert result["erased"] == {"appointments": 1, "life events": 1, "proactive actions": 1,
                                "proactive preferences": 1, "register entries": 1}
    [kept] = result["kept"]  # the cancelled case: eid-card cases are kept ten years after closing
    assert kept["case"] == case["reference"]
    assert kept["until"] > (datetime.now(UTC) + timedelta(days=3600)).date().isoformat()
    assert "retention of eid-card" in kept["reason"] and result["account"] == "kept"
    # what the case holds, and the account it needs, stay; nothing else names her
    assert _found_in(app, aalst, needles) <= {"users", "cases", "case_steps", "case_messages"}
    [entry] = data(client.get("/t/aalst/v1/audit?action=POST /t/<slug:tenant>/v1/persons", headers=staff))["items"]
    assert entry["summary"]["changes"][0]["subject"] == f"erasure:{mira.id}"

    # the period ends: the retention run pseudonymises the case, then the account nothing holds any more
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, aalst.id):
        session.execute(update(Case).where(Case.id == uuid.UUID(case["id"]))
                        .values(updated_at=datetime.now(UTC) - timedelta(days=3700)))
    run = app.test_cli_runner().invoke(cli, ["retention", "run"])
    assert run.exit_code == 0 and "cases 1" in run.output and "accounts 1" in run.output, run.output
    assert _found_in(app, aalst, needles) == set()
    after = data(client.get(f"/t/aalst/v1/cases/{case['id']}", headers=partner))
    assert after["reference"] == case["reference"] and after["form"] == {} and after["status"] == "cancelled"
    assert after["citizen_id"] != str(mira.id)
    actions = [e["action"] for e in data(client.get("/t/aalst/v1/audit?action=retention", headers=staff))["items"]]
    assert actions == ["retention"]
    again = app.test_cli_runner().invoke(cli, ["retention", "run"])
    assert "nothing due" in again.output  # done once
