"""Cases: open, see and move them as the citizen, the municipality's staff, a delegated back office
or a partner, and never across municipalities."""

import base64
import hashlib
import io
import re
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import event, select, update

from api.database import database
from factories import Town
from support.clock import municipal_today
from support.contract import assert_problem
from support.evidence import JPEG, PHOTO, eid_form
from support.oauth import REDIRECT, bearer, data, register, token, user_token
from tenants.models import Tenant
from townhall.auth.models import Team, User
from townhall.auth.operations import add_membership, delegate
from townhall.auth.scopes import CASE_WORKER
from townhall.calendar import add_working_days
from townhall.cases.models import Case, ReferenceCounter
from townhall.cases.operations import open_case
from townhall.ids import new_id
from townhall.outbox.models import OutboxEvent
from townhall.services.operations import configure_service
from townhall.tenancy import Municipality, tenant_scope

PASSWORD = "correct horse battery"
SCOPES = "cases:read cases:write"
EID = {"service": "eid-card", "form": eid_form()}
PERMIT = {"service": "parking-permit", "form": {"plate": "1-ABC-234", "zone": "A1", "starts_on": "2026-12-01"}}


def test_a_citizen_applies_and_follows_the_case(app: Flask, client: FlaskClient, town: Town) -> None:
    created = client.post("/t/aalst/v1/cases", json=EID, headers=town.headers["jan"])
    assert created.status_code == 201
    case = data(created)
    assert case["reference"].startswith(f"AALST-{municipal_today().year}-") and case["status"] == "submitted"
    assert case["fee"] == {"amount_cents": 2500, "currency": "EUR"}
    assert case["due_date"] == add_working_days(municipal_today(), 10).isoformat()
    assert case["next_states"] == ["cancelled"] and [s["kind"] for s in case["timeline"]] == ["created"]
    assert client.get(created.headers["Location"], headers=town.headers["jan"]).status_code == 200
    with app.app_context(), database().sessions() as session, tenant_scope(session, town.tenant.id):
        events = session.scalars(select(OutboxEvent).where(OutboxEvent.subject == case["id"])).all()
        assert [e.type for e in events] == ["case.created"]


def test_each_status_change_leaves_its_event_and_a_refused_one_none(app: Flask, client: FlaskClient,
                                                                    town: Town) -> None:
    created = client.post("/t/aalst/v1/cases", json=EID, headers=town.headers["jan"])
    case, url = data(created), created.headers["Location"] + "/transitions"
    first, worker = {"If-Match": created.headers["ETag"]}, town.headers["worker"]
    moved = client.post(url, json={"to": "fee_due"}, headers=worker | first)
    assert moved.status_code == 200
    refused = client.post(url, json={"to": "handed_over"}, headers=worker | {"If-Match": moved.headers["ETag"]})
    assert_problem(refused, 409)
    assert_problem(client.post(url, json={"to": "cancelled"}, headers=town.headers["jan"] | first), 412)
    with app.app_context(), database().sessions() as session, tenant_scope(session, town.tenant.id):
        events = session.scalars(select(OutboxEvent).where(OutboxEvent.subject == case["id"])
                                 .order_by(OutboxEvent.time, OutboxEvent.id)).all()
    assert [e.type for e in events] == ["case.created", "case.status-changed"]
    changed = events[1]
    assert changed.tenant_id == town.tenant.id and changed.time >= events[0].time
    assert changed.data == {"case": case["id"], "reference": case["reference"], "service": "eid-card",
                            "status": "fee_due", "from": "submitted", "to": "fee_due"}


def test_a_due_date_skips_weekends_and_belgian_public_holidays(app: Flask, town: Town) -> None:
    """Ten working days from Wednesday 23 December 2026: Christmas, two weekends and New Year skipped."""
    aalst = Municipality(town.tenant.id, "aalst", "Aalst", "https://townhall.test/t/aalst/v1")
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, town.tenant.id):
        jan = session.scalars(select(User.id).where(User.email == "jan@example.org")).one()
        case, _ = open_case(session, app.extensions["townhall.storage"], aalst, "eid-card", eid_form(),
                            jan, "test", date(2026, 12, 23))
    assert case.due_on == date(2027, 1, 8)
    assert add_working_days(date(2027, 3, 26), 1) == date(2027, 3, 30)  # Friday, then Easter Monday


def test_a_case_opened_today_counts_from_the_municipality_s_own_date(
    client: FlaskClient, make_tenant: Callable[..., Tenant], town: Town
) -> None:
    """UTC+14 and UTC-11 never share a date: each municipality's due date (no working days to add) is
    its own today."""
    for slug, nis, zone in (("east", "11001", "Pacific/Kiritimati"), ("west", "11002", "Pacific/Pago_Pago")):
        tenant = make_tenant(slug, nis, time_zone=zone)
        with client.application.app_context(), database().unit_of_work() as session, \
                tenant_scope(session, tenant.id):
            configure_service(session, tenant.id, "parking-permit", {"processing_days": 0})
        partner = bearer(token(client, register(client.application, tenant, SCOPES.split())))
        opened = data(client.post(f"/t/{slug}/v1/cases", json=PERMIT | {"citizen": "jan@example.org"},
                                  headers=partner))
        assert opened["due_date"] == datetime.now(ZoneInfo(zone)).date().isoformat(), zone


def test_references_count_up_per_municipality(client: FlaskClient, town: Town) -> None:
    numbers = [data(client.post("/t/aalst/v1/cases", json=EID, headers=town.headers["jan"]))["reference"]
               for _ in range(3)]
    assert len(set(numbers)) == 3
    assert [int(n.rsplit("-", 1)[1]) for n in numbers] == sorted(int(n.rsplit("-", 1)[1]) for n in numbers)


def test_a_reference_has_six_digits_at_least_and_is_the_one_stored(app: Flask, client: FlaskClient,
                                                                    town: Town) -> None:
    """PostgreSQL makes the reference in the statement that writes the case, SQLite in Python: the
    answer, the case row and its event carry the same one, past a million cases in a year too."""
    first = data(client.post("/t/aalst/v1/cases", json=EID, headers=town.headers["jan"]))
    year = first["reference"].split("-")[1]
    assert re.fullmatch(rf"AALST-{year}-\d{{6}}", first["reference"])
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, town.tenant.id):
        session.execute(update(ReferenceCounter).where(ReferenceCounter.tenant_id == town.tenant.id)
                        .values(last=999_999))
    second = data(client.post("/t/aalst/v1/cases", json=EID, headers=town.headers["jan"]))
    assert second["reference"] == f"AALST-{year}-1000000"
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, town.tenant.id):
        for case in (first, second):
            stored = session.scalars(select(Case.reference).where(Case.id == uuid.UUID(case["id"]))).one()
            events = session.scalars(select(OutboxEvent.data).where(OutboxEvent.subject == case["id"])).all()
            assert stored == case["reference"] and [event["reference"] for event in events] == [stored]


def test_forms_are_checked_by_the_service(client: FlaskClient, town: Town) -> None:
    bad = client.post("/t/aalst/v1/cases", json={"service": "parking-permit", "form": {"plate": "nope"}},
                      headers=town.headers["jan"])
    assert {"form.plate", "form.zone", "form.starts_on"} <= set(assert_problem(bad, 422)["errors"])
    not_offered = client.post("/t/aalst/v1/cases", json={"service": "bulky-waste", "form": {}},
                              headers=town.headers["jan"])
    assert_problem(not_offered, 404)
    on_behalf = client.post("/t/aalst/v1/cases", json=EID | {"citizen": "an@example.org"}, headers=town.headers["jan"])
    assert "citizen" in assert_problem(on_behalf, 422)["errors"]


def test_a_certificate_is_issued_at_once(client: FlaskClient, town: Town) -> None:
    case = data(client.post("/t/aalst/v1/cases", json={"service": "certificate", "form": {"kind": "residence"}},
                            headers=town.headers["jan"]))
    assert case["status"] == "issued" and case["timeline"][-1]["actor"] == "system"


def test_staff_and_partners_act_on_a_citizens_behalf(client: FlaskClient, town: Town) -> None:
    by_partner = client.post("/t/aalst/v1/cases", json=PERMIT | {"citizen": "jan@example.org"},
                             headers=town.headers["partner"])
    assert by_partner.status_code == 201
    missing = client.post("/t/aalst/v1/cases", json=PERMIT, headers=town.headers["worker"])
    assert "citizen" in assert_problem(missing, 422)["errors"]
    jan_sees = data(client.get("/t/aalst/v1/cases", headers=town.headers["jan"]))["items"]
    assert [c["id"] for c in jan_sees] == [data(by_partner)["id"]]


def test_each_sees_only_what_they_may(client: FlaskClient, town: Town) -> None:
    eid = data(client.post("/t/aalst/v1/cases", json=EID, headers=town.headers["jan"]))
    permit = data(client.post("/t/aalst/v1/cases", json=PERMIT, headers=town.headers["jan"]))
    ids = {"eid": eid["id"], "permit": permit["id"]}

    def seen(who: str) -> set[str]:
        return {c["id"] for c in data(client.get("/t/aalst/v1/cases", headers=town.headers[who]))["items"]}

    assert seen("jan") == set(ids.values()) and seen("an") == set()
    assert seen("worker") == set(ids.values()) and seen("partner") == set(ids.values())
    assert seen("backoffice") == {ids["eid"]}  # only what aalst delegated to the team
    assert_problem(client.get(f"/t/aalst/v1/cases/{ids['permit']}", headers=town.headers["backoffice"]), 404)
    assert_problem(client.get(f"/t/aalst/v1/cases/{ids['eid']}", headers=town.headers["an"]), 404)


def test_the_workflow_decides_who_moves_a_case(client: FlaskClient, town: Town) -> None:
    created = client.post("/t/aalst/v1/cases", json=EID, headers=town.headers["jan"])
    url = created.headers["Location"] + "/transitions"
    etag = created.headers["ETag"]
    assert_problem(client.post(url, json={"to": "fee_due"}, headers=town.headers["worker"]), 428)
    forbidden = client.post(url, json={"to": "fee_due"}, headers=town.headers["jan"] | {"If-Match": etag})
    assert_problem(forbidden, 403)
    moved = client.post(url, json={"to": "fee_due", "note": "photo checked"},
                        headers=town.headers["backoffice"] | {"If-Match": etag})
    assert data(moved)["status"] == "fee_due"
    assert_problem(client.post(url, json={"to": "handed_over"}, headers=town.headers["worker"] | {"If-Match": etag}),
                   412)
    impossible = client.post(url, json={"to": "handed_over"},
                             headers=town.headers["worker"] | {"If-Match": moved.headers["ETag"]})
    assert_problem(impossible, 409)
    cancel = {"to": "cancelled"}
    cancelled = client.post(url, json=cancel, headers=town.headers["jan"] | {"If-Match": moved.headers["ETag"]})
    assert data(cancelled)["status"] == "cancelled" and data(cancelled)["next_states"] == []


def test_citizens_never_see_internal_steps(app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant],
                                           town: Town) -> None:
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, town.tenant.id):
        configure_service(session, town.tenant.id, "address-change", {})
    created = client.post("/t/aalst/v1/cases", json={"service": "address-change", "form": {
        "new_address": {"street": "Grote Markt", "number": "3", "postal_code": "9300", "municipality": "Aalst"},
        "moved_on": municipal_today().isoformat()}}, headers=town.headers["jan"])
    client.post(created.headers["Location"] + "/transitions", json={"to": "neighbourhood_check", "note": "visit Tue"},
                headers=town.headers["worker"] | {"If-Match": created.headers["ETag"]})
    staff_view = data(client.get(created.headers["Location"], headers=town.headers["worker"]))["timeline"]
    citizen_view = data(client.get(created.headers["Location"], headers=town.headers["jan"]))["timeline"]
    assert [s["kind"] for s in staff_view] == ["created", "transition"]
    assert [s["kind"] for s in citizen_view] == ["created"]


def test_another_municipality_never_sees_or_moves_a_case(
    app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant], town: Town
) -> None:
    created = client.post("/t/aalst/v1/cases", json=EID, headers=town.headers["jan"])
    case_id = data(created)["id"]
    ninove = make_tenant("ninove", "41048")
    ninove_partner = bearer(token(client, register(app, ninove, SCOPES.split())))
    assert_problem(client.get(f"/t/aalst/v1/cases/{case_id}", headers=ninove_partner), 401)
    assert_problem(client.get(f"/t/ninove/v1/cases/{case_id}", headers=ninove_partner), 404)
    assert_problem(client.post(f"/t/ninove/v1/cases/{case_id}/transitions", json={"to": "cancelled"},
                               headers=ninove_partner | {"If-Match": created.headers["ETag"]}), 404)
    assert data(client.get("/t/ninove/v1/cases", headers=ninove_partner))["items"] == []


def test_a_case_is_out_of_reach_from_another_municipality_with_every_kind_of_token(
    app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant], town: Town
) -> None:
    """Every route of a case, called through Ninove for a case of Aalst: by the same citizen, a case
    worker, a delegated back-office member and a partner client of Ninove. Nothing is seen or changed."""
    created = client.post("/t/aalst/v1/cases", json=EID, headers=town.headers["jan"])
    case_id, etag = data(created)["id"], created.headers["ETag"]
    client.post(f"/t/aalst/v1/cases/{case_id}/messages", json={"body": "Saturday?"}, headers=town.headers["jan"])
    document = data(client.post(f"/t/aalst/v1/cases/{case_id}/documents", data={"file": (io.BytesIO(PDF), "a.pdf")},
                                content_type="multipart/form-data", headers=town.headers["jan"]))["id"]
    ninove = make_tenant("ninove", "41048")
    with app.app_context(), database().unit_of_work() as session:
        worker = session.scalars(select(User).where(User.email == "worker@example.org")).one()
        team = session.scalars(select(Team).where(Team.slug == "dender")).one()
        with tenant_scope(session, ninove.id):
            add_membership(session, ninove.id, worker, CASE_WORKER)
            delegate(session, ninove.id, team, "eid-card", "test")
            configure_service(session, ninove.id, "eid-card", {})
    portal = register(app, ninove, SCOPES.split(), kind="public", grant_types=["authorization_code"],
                      redirect_uris=[REDIRECT]).client_id
    tokens = {name: bearer(user_token(app, portal, f"{name}@example.org", PASSWORD, SCOPES))
              for name in ("jan", "worker", "backoffice")}
    tokens["partner"] = bearer(token(client, register(app, ninove, SCOPES.split())))

    def calls(case: str) -> list[tuple[str, str, dict[str, Any]]]:
        return [
            ("get", case, {}), ("get", f"{case}/decisions", {}), ("get", f"{case}/messages", {}),
            ("get", f"{case}/documents", {}), ("get", f"{case}/documents/{document}", {}),
            ("post", f"{case}/transitions", {"json": {"to": "cancelled"}}),
            ("put", f"{case}/assignment", {"json": {"assignee": "worker@example.org"}}),
            ("post", f"{case}/messages", {"json": {"body": "hello from elsewhere"}}),
            ("post", f"{case}/documents", {"data": {"file": (io.BytesIO(PDF), "b.pdf")},
                                           "content_type": "multipart/form-data"}),
        ]

    for name, headers in tokens.items():
        for (method, url, body), (_, nowhere, again) in zip(calls(f"/t/ninove/v1/cases/{case_id}"),
                                                           calls(f"/t/ninove/v1/cases/{uuid.uuid4()}"), strict=True):
            answer = getattr(client, method)(url, headers=headers | {"If-Match": etag}, **body)
            # Not found, or refused to this role whatever the case: the same as for a case that exists nowhere.
            unknown = getattr(client, method)(nowhere, headers=headers | {"If-Match": etag}, **again)
            assert answer.status_code in (403, 404), (name, method, url, answer.status_code)
            assert answer.status_code == unknown.status_code, (name, method, url)
        for listing in ("/t/ninove/v1/cases", "/t/ninove/v1/me/cases"):  # the queue is staff's, "me" a person's
            listed = client.get(listing, headers=headers)
            assert listed.status_code == 403 or data(listed)["items"] == [], (name, listing)
    seen = client.get(f"/t/aalst/v1/cases/{case_id}", headers=town.headers["worker"])
    assert seen.headers["ETag"] == etag and data(seen)["status"] == "submitted"
    assert len(data(client.get(f"/t/aalst/v1/cases/{case_id}/messages", headers=town.headers["jan"]))["items"]) == 1
    photo = data(created)["form"]["photo"]["document"]  # the application's evidence, and the one uploaded
    assert [d["id"] for d in data(client.get(f"/t/aalst/v1/cases/{case_id}/documents",
                                             headers=town.headers["jan"]))["items"]] == [photo, document]


def test_list_filters_are_checked(client: FlaskClient, town: Town) -> None:
    for bad in ("service=teleport", "status=x%20y", "cursor=bm90LWEtdXVpZA"):
        assert_problem(client.get(f"/t/aalst/v1/cases?{bad}", headers=town.headers["worker"]), 400)
    client.post("/t/aalst/v1/cases", json=EID, headers=town.headers["jan"])
    assert len(data(client.get("/t/aalst/v1/cases?service=eid-card&status=submitted",
                               headers=town.headers["worker"]))["items"]) == 1


def test_an_idempotency_key_replays_the_first_answer(client: FlaskClient, town: Town) -> None:
    headers = town.headers["jan"] | {"Idempotency-Key": '"8e03978e-40d5-43e8-bc93-6894a57f9324"'}
    first = client.post("/t/aalst/v1/cases", json=EID, headers=headers)
    again = client.post("/t/aalst/v1/cases", json=EID, headers=headers)
    assert first.status_code == again.status_code == 201
    assert data(again)["id"] == data(first)["id"] and again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert len(data(client.get("/t/aalst/v1/cases", headers=town.headers["jan"]))["items"]) == 1
    other_body = client.post("/t/aalst/v1/cases", json=PERMIT, headers=headers)
    assert assert_problem(other_body, 422)["code"] == "idempotency_key_reused"


def test_idempotency_keys_belong_to_one_client_and_failures_are_not_kept(client: FlaskClient, town: Town) -> None:
    key = {"Idempotency-Key": "k-1"}
    bad = client.post("/t/aalst/v1/cases", json={"service": "eid-card", "form": {}},
                      headers=town.headers["partner"] | key)
    assert_problem(bad, 422)
    good = client.post("/t/aalst/v1/cases", json=EID | {"citizen": "jan@example.org"},
                       headers=town.headers["partner"] | key)
    assert good.status_code == 201  # the failed attempt kept nothing
    mine = client.post("/t/aalst/v1/cases", json=EID, headers=town.headers["jan"] | key)
    assert mine.status_code == 201 and data(mine)["id"] != data(good)["id"]  # another client's key
    too_long = town.headers["jan"] | {"Idempotency-Key": "x" * 300}
    assert_problem(client.post("/t/aalst/v1/cases", json=EID, headers=too_long), 400)


def test_a_page_costs_the_same_number_of_statements_whatever_its_size(
    app: Flask, client: FlaskClient, town: Town
) -> None:
    for _ in range(12):
        client.post("/t/aalst/v1/cases", json=EID, headers=town.headers["jan"])
    engine = app.extensions["townhall.database"].engine
    counted: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        counted.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        costs = {}
        for size in (1, 5, 12):
            counted.clear()
            page = data(client.get(f"/t/aalst/v1/cases?limit={size}", headers=town.headers["worker"]))
            assert len(page["items"]) == size
            costs[size] = len(counted)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(set(costs.values())) == 1, costs


def test_opening_a_case_takes_one_read_and_one_write_on_postgresql(
    app: Flask, client: FlaskClient, town: Town
) -> None:
    """The citizen (also by e-mail), catalogue entry, register entry and rules in one read; the
    number, the case, its decisions, step and event in one statement on PostgreSQL; on SQLite the
    number, then one INSERT per table."""
    engine = app.extensions["townhall.database"].engine
    counted: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if re.search(r"\b(catalog_entries|case_\w+|cases|outbox_events)\b", statement):  # not the harness's savepoints
            counted.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        costs = []
        on_behalf = PERMIT | {"citizen": "jan@example.org"}
        for body, headers in ((PERMIT, town.headers["jan"]), (on_behalf, town.headers["partner"]),
                              (EID, town.headers["jan"])):
            counted.clear()
            assert client.post("/t/aalst/v1/cases", json=body, headers=headers).status_code == 201
            costs.append(len(counted))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # The identity card's photo is one more row, the case's document: in the same statement on PostgreSQL.
    assert costs == ([2, 2, 2] if engine.dialect.name == "postgresql" else [6, 6, 7]), counted


def test_a_case_is_opened_for_a_person_the_same_transaction_added(app: Flask, town: Town) -> None:
    """Opening a case reads and writes with Core statements, which do not flush the ORM by themselves."""
    aalst = Municipality(town.tenant.id, "aalst", "Aalst", "https://townhall.test/t/aalst/v1")
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, town.tenant.id):
        person = User(id=new_id(), email="new@example.org", email_key="new@example.org", display_name="New")
        session.add(person)  # not flushed
        case, steps = open_case(session, app.extensions["townhall.storage"], aalst, "eid-card", eid_form(),
                                person.id, "test", municipal_today())
        assert case.citizen_id == person.id and [step.kind for step in steps] == ["created"]
        assert session.scalars(select(Case.reference).where(Case.citizen_id == person.id)).one() == case.reference


def test_a_certificate_can_be_verified_by_anyone_and_a_forged_code_cannot(
    client: FlaskClient, town: Town, make_tenant: Callable[..., Tenant]
) -> None:
    case = data(client.post("/t/aalst/v1/cases", json={"service": "certificate", "form": {"kind": "life"}},
                            headers=town.headers["jan"]))
    code = case["certificate"]["verification_code"]
    assert case["certificate"]["verify_url"] == f"https://townhall.test/t/aalst/v1/certificates/{code}"
    checked = data(client.get(f"/t/aalst/v1/certificates/{code}"))
    assert checked == {"valid": True, "municipality": "aalst", "kind": "life", "reference": case["reference"],
                       "issued_at": checked["issued_at"]}
    assert "jan" not in str(checked)
    forged = code[:-1] + ("A" if code[-1] != "A" else "B")
    assert_problem(client.get(f"/t/aalst/v1/certificates/{forged}"), 404)
    make_tenant("ninove", "41048")
    assert_problem(client.get(f"/t/ninove/v1/certificates/{code}"), 404)  # another municipality's code


def test_a_certificate_is_a_pdf_in_the_language_asked_for(client: FlaskClient, town: Town) -> None:
    form = {"kind": "household_composition", "language": "fr", "purpose": "allocations (familiales)"}
    case = data(client.post("/t/aalst/v1/cases", json={"service": "certificate", "form": form},
                            headers=town.headers["jan"]))
    download = client.get(case["certificate"]["document"], headers=town.headers["jan"])
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    pdf = PdfReader(io.BytesIO(download.data), strict=True)  # strict: the cross-reference table must be exact
    text = pdf.pages[0].extract_text()
    code = case["certificate"]["verification_code"]
    for expected in ("Certificat de composition de ménage", "Délivré à", case["reference"], code,
                     case["certificate"]["verify_url"], "allocations (familiales)"):
        assert expected in text
    listed = data(client.get(f"/t/aalst/v1/cases/{case['id']}/documents", headers=town.headers["jan"]))["items"]
    assert [d["filename"] for d in listed] == [f"{case['reference']}.pdf"]
    assert hashlib.sha256(download.data).hexdigest() == listed[0]["sha256"]
    assert_problem(client.get(case["certificate"]["document"], headers=town.headers["an"]), 404)  # not hers


def test_citizen_and_staff_exchange_messages_on_a_case(app: Flask, client: FlaskClient, town: Town) -> None:
    created = client.post("/t/aalst/v1/cases", json=EID, headers=town.headers["jan"])
    url = created.headers["Location"] + "/messages"
    asked = client.post(url, json={"body": "Can I pick it up on Saturday?"}, headers=town.headers["jan"])
    answered = client.post(url, json={"body": "Yes, 9 to 12."}, headers=town.headers["worker"])
    assert asked.status_code == answered.status_code == 201
    thread = data(client.get(url, headers=town.headers["jan"]))["items"]
    assert [(m["from_citizen"], m["body"]) for m in thread] == [(True, "Can I pick it up on Saturday?"),
                                                                (False, "Yes, 9 to 12.")]
    assert_problem(client.get(url, headers=town.headers["an"]), 404)  # not her case
    assert_problem(client.post(url, json={"body": "  "}, headers=town.headers["jan"]), 422)
    with app.app_context(), database().sessions() as session, tenant_scope(session, town.tenant.id):
        kinds = session.scalars(select(OutboxEvent.type).where(OutboxEvent.subject == data(created)["id"])).all()
    assert kinds.count("case.message-added") == 2


def test_a_report_near_an_open_one_of_the_same_kind_is_flagged(
    app: Flask, client: FlaskClient, town: Town
) -> None:
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, town.tenant.id):
        configure_service(session, town.tenant.id, "public-space-report", {})

    def report(category: str, lat: float, long: float) -> dict[str, object]:
        form = {"category": category, "description": "Seen this morning", "lat": lat, "long": long}
        answer: dict[str, object] = data(client.post("/t/aalst/v1/cases", json={"service": "public-space-report",
                                                                                 "form": form},
                                                     headers=town.headers["jan"]))
        return answer

    first = report("pothole", 50.93780, 4.04090)
    near = report("pothole", 50.93800, 4.04100)  # about 23 m away
    far = report("pothole", 50.94500, 4.04090)  # about 800 m away
    other_kind = report("litter", 50.93781, 4.04091)
    assert first["possible_duplicate_of"] is None
    assert near["possible_duplicate_of"] == first["reference"]
    assert far["possible_duplicate_of"] is None and other_kind["possible_duplicate_of"] is None


PDF = b"%PDF-1.7\n% a tiny test document\n%%EOF\n"


def test_documents_are_checked_hashed_stored_and_served_back(client: FlaskClient, town: Town) -> None:
    created = client.post("/t/aalst/v1/cases", json=EID, headers=town.headers["jan"])
    url = created.headers["Location"] + "/documents"
    uploaded = client.post(url, data={"file": (io.BytesIO(PDF), "../../etc/passwd.pdf")},
                           content_type="multipart/form-data", headers=town.headers["jan"])
    assert uploaded.status_code == 201
    meta = data(uploaded)
    assert meta["sha256"] == hashlib.sha256(PDF).hexdigest() and meta["content_type"] == "application/pdf"
    assert "/" not in meta["filename"] and meta["from_citizen"] is True
    fetched = client.get(uploaded.headers["Location"], headers=town.headers["worker"])
    assert fetched.data == PDF and fetched.mimetype == "application/pdf"
    assert fetched.headers["Repr-Digest"] == "sha-256=:" + base64.b64encode(hashlib.sha256(PDF).digest()).decode() + ":"
    photo = data(created)["form"]["photo"]
    assert photo["media_type"] == "image/jpeg" and photo["bytes"] == len(JPEG) and "content" not in photo
    listed = data(client.get(url, headers=town.headers["jan"]))["items"]
    assert [(d["id"], d["filename"]) for d in listed] == [(photo["document"], "photo.jpg"),
                                                         (meta["id"], meta["filename"])]
    evidence = client.get(f"{url}/{photo['document']}", headers=town.headers["worker"])
    assert evidence.data == JPEG and evidence.mimetype == "image/jpeg"
    assert_problem(client.get(uploaded.headers["Location"], headers=town.headers["an"]), 404)

    script = client.post(url, data={"file": (io.BytesIO(b"<script>alert(1)</script>"), "x.pdf")},
                         content_type="multipart/form-data", headers=town.headers["jan"])
    assert "file" in assert_problem(script, 422)["errors"]
    as_json = client.post(url, json={"file": "x"}, headers=town.headers["jan"])
    assert_problem(as_json, 415)

def test_an_identity_card_application_without_its_photo_is_refused_and_changes_nothing(
        client: FlaskClient, town: Town) -> None:
    before = data(client.get("/t/aalst/v1/me/cases", headers=town.headers["jan"]))["items"]
    for form, why in (({"reason": "renewal"}, "Missing data"),
                      ({"reason": "renewal", "photo": {"media_type": "image/jpeg", "content": "JVBERi0xLjQK"}},
                       "first bytes"),
                      ({"reason": "renewal", "photo": {"media_type": "image/gif", "content": PHOTO["content"]}},
                       "Must be one of"),
                      ({"reason": "renewal", "photo": {"media_type": "image/jpeg", "content": "*** not base64 ***"}},
                       "base64")):
        refused = assert_problem(client.post("/t/aalst/v1/cases", json={"service": "eid-card", "form": form},
                                             headers=town.headers["jan"]), 422)
        said = " ".join(message for field, found in refused["errors"].items() if field.startswith("form.photo")
                        for message in found)
        assert why in said, refused
    assert data(client.get("/t/aalst/v1/me/cases", headers=town.headers["jan"]))["items"] == before


def test_documents_over_the_limit_are_refused(
    app: Flask, client: FlaskClient, town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "TOWNHALL_SETTINGS", replace(app.config["TOWNHALL_SETTINGS"],
                                                                 max_document_bytes=2048))
    created = client.post("/t/aalst/v1/cases", json=EID, headers=town.headers["jan"])
    too_big = client.post(created.headers["Location"] + "/documents",
                          data={"file": (io.BytesIO(PDF + b"0" * 3000), "big.pdf")},
                          content_type="multipart/form-data", headers=town.headers["jan"])
    assert "file" in assert_problem(too_big, 422)["errors"]


def test_a_back_office_worker_is_refused_where_nothing_was_delegated(
    app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant], town: Town
) -> None:
    haaltert = make_tenant("haaltert", "41024")
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, haaltert.id):
        configure_service(session, haaltert.id, "eid-card", {})
    partner = bearer(token(client, register(app, haaltert, SCOPES.split())))
    case = client.post("/t/haaltert/v1/cases", json=EID | {"citizen": "jan@example.org"}, headers=partner)
    portal = register(app, haaltert, SCOPES.split(), kind="public", grant_types=["authorization_code"],
                      redirect_uris=[REDIRECT]).client_id
    worker = bearer(user_token(app, portal, "backoffice@example.org", PASSWORD, SCOPES))

    assert data(client.get("/t/haaltert/v1/cases", headers=worker))["items"] == []
    assert_problem(client.get(case.headers["Location"], headers=worker), 404)
    step = client.post(case.headers["Location"] + "/transitions", json={"to": "fee_due"},
                       headers=worker | {"If-Match": case.headers["ETag"]})
    assert_problem(step, 404)
    on_behalf = client.post("/t/haaltert/v1/cases", json=EID | {"citizen": "jan@example.org"}, headers=worker)
    assert "citizen" in assert_problem(on_behalf, 422)["errors"]  # here, only a citizen like any other


def test_staff_assign_cases_to_those_who_may_handle_them(app: Flask, client: FlaskClient, town: Town) -> None:
    eid = client.post("/t/aalst/v1/cases", json=EID, headers=town.headers["jan"])
    permit = client.post("/t/aalst/v1/cases", json=PERMIT, headers=town.headers["jan"])
    url = eid.headers["Location"] + "/assignment"
    body = {"assignee": "backoffice@example.org", "team": "dender"}
    assert_problem(client.put(url, json=body, headers=town.headers["worker"]), 428)
    assert_problem(client.put(url, json=body, headers=town.headers["jan"] | {"If-Match": eid.headers["ETag"]}), 403)
    assigned = client.put(url, json=body, headers=town.headers["worker"] | {"If-Match": eid.headers["ETag"]})
    assert (data(assigned)["assignee"], data(assigned)["team"]) == ("backoffice@example.org", "dender")
    assert data(assigned)["timeline"][-1]["kind"] == "assignment"
    assert_problem(client.put(url, json={}, headers=town.headers["worker"] | {"If-Match": eid.headers["ETag"]}), 412)
    # The team handles eID cards only; an unknown person or team is named as such.
    permit_url = permit.headers["Location"] + "/assignment"
    refused = client.put(permit_url, json=body, headers=town.headers["worker"] | {"If-Match": permit.headers["ETag"]})
    assert set(assert_problem(refused, 422)["errors"]) == {"assignee", "team"}
    unknown = client.put(permit_url, json={"assignee": "ghost@example.org", "team": "nope"},
                         headers=town.headers["worker"] | {"If-Match": permit.headers["ETag"]})
    assert set(assert_problem(unknown, 422)["errors"]) == {"assignee", "team"}
    to_worker = client.put(permit_url, json={"assignee": "worker@example.org"},
                           headers=town.headers["worker"] | {"If-Match": permit.headers["ETag"]})
    assert data(to_worker)["assignee"] == "worker@example.org" and data(to_worker)["team"] is None

    citizen_view = data(client.get(eid.headers["Location"], headers=town.headers["jan"]))
    assert "assignee" not in citizen_view and [s["kind"] for s in citizen_view["timeline"]] == ["created"]
    with app.app_context(), database().sessions() as session, tenant_scope(session, town.tenant.id):
        kinds = session.scalars(select(OutboxEvent.type).where(OutboxEvent.subject == data(eid)["id"])).all()
    assert "case.assigned" in kinds

    def queue(query: str, who: str = "worker") -> list[str]:
        found = client.get(f"/t/aalst/v1/cases?{query}", headers=town.headers[who])
        assert found.status_code == 200, found.json
        return [c["reference"] for c in data(found)["items"]]

    eid_ref, permit_ref = data(eid)["reference"], data(permit)["reference"]
    assert queue("assignee=me") == [permit_ref]
    assert queue("assignee=me", "backoffice") == [eid_ref]
    assert queue("assignee=backoffice@example.org&team=dender") == [eid_ref]
    assert queue("team=none") == [permit_ref] and queue("assignee=none") == []
    assert queue("assignee=nobody@example.org") == []
    assert_problem(client.get("/t/aalst/v1/cases?assignee=me", headers=town.headers["partner"]), 400)
    assert_problem(client.get("/t/aalst/v1/cases?team=dender", headers=town.headers["jan"]), 400)
    assert_problem(client.get("/t/aalst/v1/cases?overdue=yes", headers=town.headers["worker"]), 400)


def test_the_overdue_filter_shows_open_cases_past_their_due_date(
    app: Flask, client: FlaskClient, town: Town
) -> None:
    late, done, fresh = (data(client.post("/t/aalst/v1/cases", json=EID, headers=town.headers["jan"]))
                         for _ in range(3))
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, town.tenant.id):
        for case in (late, done):
            session.execute(update(Case).where(Case.id == uuid.UUID(case["id"])).values(due_on=date(2020, 1, 6)))
        session.execute(update(Case).where(Case.id == uuid.UUID(done["id"])).values(status="handed_over"))
    overdue = data(client.get("/t/aalst/v1/cases?overdue=true", headers=town.headers["worker"]))["items"]
    assert [c["reference"] for c in overdue] == [late["reference"]]
    assert fresh["reference"] not in [c["reference"] for c in overdue]
