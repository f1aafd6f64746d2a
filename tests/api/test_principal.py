"""One token is one caller in every module: the principal's rule, route by route.

A shared back-office worker whose team a municipality delegated `eid-card` to is staff for eID cases
and eID appointments there, and a citizen for everything else; the municipality's own case worker and
a partner client see every case and appointment; a citizen sees their own."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.database import database
from factories import PASSWORD, build_people
from support.contract import assert_problem
from support.evidence import eid_form
from support.oauth import REDIRECT, bearer, data, register, token, user_token
from tenants.models import Tenant
from townhall.auth.operations import add_membership, add_team_member, create_team, delegate
from townhall.auth.principal import EVERYTHING, Viewer, principal_from_claims
from townhall.auth.scopes import CASE_WORKER, CITIZEN, TENANT_ADMIN
from townhall.services.operations import configure_service
from townhall.tenancy import tenant_scope

SCOPES = "appointments:read appointments:write cases:read cases:write"
HOURS = {day: [["09:00", "11:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
DAY = "2027-03-01"  # a Monday


@dataclass(frozen=True)
class Callers:
    headers: dict[str, dict[str, str]]
    office: str
    cases: dict[str, str]  # service -> the citizen's case
    appointments: dict[str, str]  # service -> the citizen's appointment


def _offer(service: str) -> dict[str, Any]:
    return {"service": service, "duration_minutes": 30, "counters": 1, "lead_minutes": 0, "horizon_days": 366}


@pytest.fixture
def callers(app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant], signing_key: None) -> Callers:
    aalst = make_tenant("aalst", "41002")
    with app.app_context(), database().unit_of_work() as session:
        people = build_people(session, ("jan", "worker", "clerk", "admin"))
        team = create_team(session, "dender", "Dender back office")
        add_team_member(session, team, people["worker"])
        with tenant_scope(session, aalst.id):
            delegate(session, aalst.id, team, "eid-card", "test")
            add_membership(session, aalst.id, people["clerk"], CASE_WORKER)
            add_membership(session, aalst.id, people["admin"], TENANT_ADMIN)
            for service in ("eid-card", "travel-document", "certificate"):
                configure_service(session, aalst.id, service, {})
    portal = register(app, aalst, [*SCOPES.split(), "config:write"], kind="public",
                      grant_types=["authorization_code"], redirect_uris=[REDIRECT]).client_id
    headers = {name: bearer(user_token(app, portal, f"{name}@example.org", PASSWORD, SCOPES))
               for name in ("jan", "worker", "clerk")}
    headers["partner"] = bearer(token(client, register(app, aalst, SCOPES.split())))
    admin = bearer(user_token(app, portal, "admin@example.org", PASSWORD, "config:write"))
    office = client.post("/t/aalst/v1/offices", headers=admin, json={
        "name": "Aalst", "address": "Markt 1, Aalst", "lat": 50.9378, "long": 4.0403, "languages": ["nl"],
        "hours": HOURS, "services": [_offer("eid-card"), _offer("travel-document")]})
    assert office.status_code == 201, office.get_data(as_text=True)
    office_id = data(office)["id"]
    cases = {}
    for service, form in (("eid-card", eid_form()), ("certificate", {"kind": "residence"})):
        opened = client.post("/t/aalst/v1/cases", json={"service": service, "form": form}, headers=headers["jan"])
        assert opened.status_code == 201, opened.get_data(as_text=True)
        cases[service] = data(opened)["id"]
    appointments = {}
    for service, start in (("eid-card", f"{DAY}T09:00:00+01:00"), ("travel-document", f"{DAY}T09:30:00+01:00")):
        booked = client.post("/t/aalst/v1/appointments", headers=headers["jan"],
                             json={"service": service, "office": office_id, "start": start})
        assert booked.status_code == 201, booked.get_data(as_text=True)
        appointments[service] = data(booked)["id"]
    return Callers(headers, office_id, cases, appointments)


# What each caller sees of the citizen's records, the same in cases and appointments.
SEES = {
    "jan": {"eid-card", "travel-document", "certificate"},  # their own, as a citizen
    "worker": {"eid-card"},  # the delegated service only
    "clerk": {"eid-card", "travel-document", "certificate"},
    "partner": {"eid-card", "travel-document", "certificate"},
}
STAFF = {"worker", "clerk", "partner"}


def _services(answer: Any) -> set[str]:
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return {item["service"] for item in data(answer)["items"]}


@pytest.mark.parametrize("caller", sorted(SEES))
def test_one_token_sees_the_same_services_in_cases_and_appointments(
    client: FlaskClient, callers: Callers, caller: str
) -> None:
    headers = callers.headers[caller]
    assert _services(client.get("/t/aalst/v1/cases", headers=headers)) == SEES[caller] & set(callers.cases)
    visits = client.get("/t/aalst/v1/appointments", headers=headers)
    assert _services(visits) == SEES[caller] & set(callers.appointments)
    for service, case in callers.cases.items():
        answer = client.get(f"/t/aalst/v1/cases/{case}", headers=headers)
        assert answer.status_code == (200 if service in SEES[caller] else 404)
    for service, appointment in callers.appointments.items():
        answer = client.get(f"/t/aalst/v1/appointments/{appointment}", headers=headers)
        assert answer.status_code == (200 if service in SEES[caller] else 404)


@pytest.mark.parametrize("caller", sorted(SEES))
def test_one_token_is_staff_in_every_module_or_in_none(client: FlaskClient, callers: Callers, caller: str) -> None:
    headers = callers.headers[caller]
    day = client.get(f"/t/aalst/v1/offices/{callers.office}/day?date={DAY}", headers=headers)
    decisions = client.get(f"/t/aalst/v1/cases/{callers.cases['eid-card']}/decisions", headers=headers)
    case = data(client.get(f"/t/aalst/v1/cases/{callers.cases['eid-card']}", headers=headers))
    if caller in STAFF:
        assert _services(day) == SEES[caller] & set(callers.appointments)
        assert decisions.status_code == 200
        assert "assignee" in case  # the staff view of a case
    else:
        assert_problem(day, 403)
        assert_problem(decisions, 403)
        assert "assignee" not in case


def test_a_delegated_worker_acts_for_citizens_only_in_the_delegated_service(
    client: FlaskClient, callers: Callers
) -> None:
    worker = callers.headers["worker"]
    for service, allowed in (("travel-document", False), ("eid-card", True)):
        booked = client.post("/t/aalst/v1/appointments", headers=worker, json={
            "service": service, "office": callers.office, "start": "2027-03-02T10:00:00+01:00",
            "citizen": "jan@example.org"})
        if allowed:
            assert booked.status_code == 201, booked.get_data(as_text=True)
        else:
            assert_problem(booked, 403)
    refused = client.post("/t/aalst/v1/cases", headers=worker, json={
        "service": "certificate", "form": {"kind": "residence"}, "citizen": "jan@example.org"})
    assert_problem(refused, 403)
    opened = client.post("/t/aalst/v1/cases", headers=worker, json={
        "service": "eid-card", "form": eid_form(), "citizen": "jan@example.org"})
    assert opened.status_code == 201, opened.get_data(as_text=True)


def _claims(**extra: object) -> dict[str, object]:
    return {"sub": "8a4f1f0e-5a0c-4c55-9b43-5b8d1d7d0d01", "client_id": "aalst.portal1234", "tenant": "aalst",
            "principal_type": "user", "scope": "cases:read cases:write"} | extra


def test_the_principal_decides_from_the_claims_alone() -> None:
    citizen = principal_from_claims(_claims())
    worker = principal_from_claims(_claims(services=["eid-card"]))
    clerk = principal_from_claims(_claims(roles=[CASE_WORKER]))
    admin = principal_from_claims(_claims(roles=[TENANT_ADMIN]))
    partner = principal_from_claims(_claims(principal_type="client", sub="aalst.partner1234"))
    assert citizen.scopes == {"cases:read", "cases:write"} and citizen.tenant == "aalst"
    assert [p.role for p in (citizen, worker, clerk, admin, partner)] == [CITIZEN, CASE_WORKER, CASE_WORKER,
                                                                          CITIZEN, CASE_WORKER]
    assert citizen.viewer == Viewer(citizen_id=citizen.person_id) == admin.viewer
    assert worker.viewer == Viewer(services=frozenset({"eid-card"}))
    assert clerk.viewer == partner.viewer == EVERYTHING
    assert worker.handles("eid-card") and not worker.handles("certificate") and not citizen.handles("eid-card")
    assert principal_from_claims(_claims(services=["*"])).handles("certificate")
    assert partner.person_id is None and partner.actor == "client:aalst.partner1234"
    assert worker.actor == f"user:{worker.subject}"
