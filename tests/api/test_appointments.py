"""Appointments at any counter in the region: opening hours across daylight-saving changes and
holidays, region-wide slot search, booking with capacity, calendar files, and isolation."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject  # type: ignore[import-untyped]
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from api.cli import cli
from api.database import database
from factories import PASSWORD, build_people
from support.clock import municipal_today
from support.contract import assert_problem
from support.evidence import eid_form
from support.oauth import REDIRECT, bearer, data, register, token, user_token
from tenants.models import Tenant
from townhall.appointments.hours import Schedule
from townhall.appointments.ics import fold
from townhall.appointments.operations import remind
from townhall.auth.operations import add_membership
from townhall.auth.scopes import CASE_WORKER, TENANT_ADMIN
from townhall.outbox.models import OutboxEvent
from townhall.services.operations import configure_service
from townhall.tenancy import tenant_scope

SCOPES = "appointments:read appointments:write cases:read cases:write"
WEEK = {day: [["09:00", "10:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat")}


def office(name: str, lat: float, long: float, **service: Any) -> dict[str, Any]:
    offer = {"service": "eid-card", "duration_minutes": 30, "counters": 1, "lead_minutes": 0, "horizon_days": 366}
    return {"name": name, "address": f"Markt 1, {name}", "lat": lat, "long": long, "languages": ["nl", "fr"],
            "accessibility": "Step-free entrance, hearing loop at counter 2.", "hours": WEEK,
            "exceptions": {"2027-03-28": [["01:00", "04:00"]]}, "services": [offer | service]}


@dataclass(frozen=True)
class Region:
    offices: dict[str, str]
    headers: dict[str, dict[str, str]]


@pytest.fixture
def region(app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant], signing_key: None) -> Region:
    tenants = {slug: make_tenant(slug, nis) for slug, nis in (("aalst", "41002"), ("ninove", "41048"),
                                                              ("ronse", "45041"))}
    with app.app_context(), database().unit_of_work() as session:
        people = build_people(session, ("jan", "an", "els", "admin", "worker"))
        with tenant_scope(session, tenants["aalst"].id):
            add_membership(session, tenants["aalst"].id, people["admin"], TENANT_ADMIN)
            add_membership(session, tenants["aalst"].id, people["worker"], CASE_WORKER)
        with tenant_scope(session, tenants["ronse"].id):
            add_membership(session, tenants["ronse"].id, people["admin"], TENANT_ADMIN)
        for tenant in tenants.values():
            with tenant_scope(session, tenant.id):
                configure_service(session, tenant.id, "eid-card", {})
    headers: dict[str, dict[str, str]] = {}
    for slug, tenant in tenants.items():
        portal = register(app, tenant, [*SCOPES.split(), "config:write"], kind="public",
                          grant_types=["authorization_code"], redirect_uris=[REDIRECT]).client_id
        citizen = {"aalst": "jan", "ninove": "an", "ronse": "els"}[slug]
        headers[slug] = bearer(user_token(app, portal, f"{citizen}@example.org", PASSWORD, SCOPES))
        if slug in ("aalst", "ronse"):
            headers[f"{slug}-admin"] = bearer(user_token(app, portal, "admin@example.org", PASSWORD, "config:write"))
        if slug == "aalst":
            headers["worker"] = bearer(user_token(app, portal, "worker@example.org", PASSWORD, SCOPES))
            headers["partner"] = bearer(token(client, register(app, tenant, SCOPES.split())))
    aalst = client.post("/t/aalst/v1/offices", json=office("Aalst", 50.9378, 4.0403, serves=["ninove"]),
                        headers=headers["aalst-admin"])
    ronse = client.post("/t/ronse/v1/offices", json=office("Ronse", 50.7455, 3.6005), headers=headers["ronse-admin"])
    assert aalst.status_code == ronse.status_code == 201, aalst.get_data(as_text=True)
    return Region({"aalst": data(aalst)["id"], "ronse": data(ronse)["id"]}, headers)


def starts(client: FlaskClient, url: str) -> list[str]:
    answer = client.get(url)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return [slot["start"] for slot in data(answer)["items"]]


def test_slots_keep_the_wall_clock_across_daylight_saving_and_skip_holidays(
    client: FlaskClient, region: Region
) -> None:
    spring = starts(client, "/t/aalst/v1/slots?service=eid-card&from=2027-03-27&to=2027-03-30")
    assert spring == ["2027-03-27T09:00:00+01:00", "2027-03-27T09:30:00+01:00",
                      "2027-03-28T01:00:00+01:00", "2027-03-28T01:30:00+01:00",  # 02:00 does not exist that night
                      "2027-03-28T03:00:00+02:00", "2027-03-28T03:30:00+02:00",
                      "2027-03-30T09:00:00+02:00", "2027-03-30T09:30:00+02:00"]  # 29 March: Easter Monday
    autumn = starts(client, "/t/aalst/v1/slots?service=eid-card&from=2027-10-30&to=2027-11-02")
    assert autumn == ["2027-10-30T09:00:00+02:00", "2027-10-30T09:30:00+02:00",  # Sunday closed, 1 Nov a holiday
                      "2027-11-02T09:00:00+01:00", "2027-11-02T09:30:00+01:00"]
    assert_problem(client.get("/t/aalst/v1/slots?service=eid-card&from=2027-01-01&to=2027-03-01"), 400)
    assert_problem(client.get("/t/aalst/v1/slots?service=dragons"), 400)


def test_regional_and_community_holidays_close_an_office() -> None:
    flemish = Schedule(WEEK, {}, "VLG", "Europe/Brussels")
    assert flemish.intervals(date(2025, 7, 11)) == [] and Schedule(WEEK, {}, None, "Europe/Brussels").intervals(
        date(2025, 7, 11))
    assert flemish.intervals(date(2025, 12, 25)) == []  # Christmas
    extra = Schedule(WEEK, {"2025-12-25": [["10:00", "11:00"]]}, None, "Europe/Brussels")
    assert len(list(extra.starts(date(2025, 12, 25), date(2025, 12, 25), 30))) == 2  # an exception wins


def test_region_wide_search_shows_the_counters_that_serve_a_municipality(client: FlaskClient, region: Region) -> None:
    def offices(query: str) -> list[str]:
        answer = client.get(f"/v1/slots?service=eid-card&from=2027-03-01&to=2027-03-02&{query}")
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return [slot["municipality"] for slot in data(answer)["items"]]

    assert set(offices("tenant=ninove")) == {"aalst"}  # Ninove has no counter; Aalst's serves it
    assert set(offices("tenant=ronse")) == {"ronse"}  # never Aalst's: it does not serve Ronse
    near_ronse = data(client.get("/v1/slots?service=eid-card&from=2027-03-01&to=2027-03-01&tenant=aalst"
                                 "&near=50.75,3.60"))["items"]
    assert {s["municipality"] for s in near_ronse} == {"aalst"} and near_ronse[0]["distance_km"] > 20
    assert set(starts(client, "/t/ninove/v1/slots?service=eid-card&from=2027-03-01&to=2027-03-01")) == {
        "2027-03-01T09:00:00+01:00", "2027-03-01T09:30:00+01:00"}
    assert_problem(client.get("/v1/slots?service=eid-card&tenant=atlantis"), 400)
    pages, url = [], "/v1/slots?service=eid-card&from=2027-03-01&to=2027-03-05&tenant=ninove&limit=3"
    while url:
        page = data(client.get(url))
        pages.append([slot["start"] for slot in page["items"]])
        url = (page["next"] or "").removeprefix("https://townhall.test")
    every = [start for page in pages for start in page]
    assert [len(p) for p in pages] == [3, 3, 3, 1] and len(set(every)) == 10 and every == sorted(every)
    assert_problem(client.get("/v1/slots?service=eid-card&tenant=ninove&cursor=WzEsMiwzXQ"), 400)  # [1,2,3]
    assert_problem(client.get("/v1/slots?service=eid-card&tenant=aalst&sort=distance"), 400)


def _book(client: FlaskClient, region: Region, who: str, start: str, **extra: Any) -> Any:
    body = {"service": "eid-card", "office": region.offices["aalst"], "start": start} | extra
    return client.post(f"/t/{who}/v1/appointments", json=body, headers=region.headers[who])


def test_a_booking_takes_the_slot_and_comes_with_a_calendar_file(
    app: Flask, client: FlaskClient, region: Region
) -> None:
    booked = _book(client, region, "aalst", "2027-03-01T09:00:00+01:00")
    assert booked.status_code == 201, booked.get_data(as_text=True)
    assert "2027-03-01T09:00:00+01:00" not in starts(client, "/t/aalst/v1/slots?service=eid-card&from=2027-03-01"
                                                             "&to=2027-03-01")
    assert_problem(_book(client, region, "ninove", "2027-03-01T09:00:00+01:00"), 409)  # one counter, taken
    assert_problem(_book(client, region, "aalst", "2027-03-01T09:10:00+01:00"), 422)  # not a slot
    assert_problem(_book(client, region, "aalst", "2027-03-01T09:30:00+01:00", office=region.offices["ronse"]), 422)

    ics = client.get(data(booked)["calendar"], headers=region.headers["aalst"])
    assert ics.status_code == 200 and ics.mimetype == "text/calendar"
    raw = ics.data
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    assert b"METHOD" not in raw
    event = icalendar.Calendar.from_ical(raw).walk("VEVENT")[0]
    assert str(event["UID"]).startswith(data(booked)["id"]) and "DTSTAMP" in event
    assert event.decoded("DTSTART") == datetime.fromisoformat("2027-03-01T08:00:00+00:00")
    parsed = vobject.readOne(raw.decode())
    assert parsed.vevent.location.value == "Aalst, Markt 1, Aalst"
    assert parsed.vevent.dtend.value == datetime.fromisoformat("2027-03-01T09:30:00+01:00")

    url = booked.headers["Location"]
    moved = client.post(url + "/reschedule", json={"start": "2027-03-02T09:30:00+01:00"},
                        headers=region.headers["aalst"] | {"If-Match": booked.headers["ETag"]})
    assert data(moved)["start"] == "2027-03-02T09:30:00+01:00"
    assert "2027-03-01T09:00:00+01:00" in starts(client, "/t/aalst/v1/slots?service=eid-card&from=2027-03-01"
                                                         "&to=2027-03-01")  # the old seat is free again
    cancelled = client.post(url + "/cancel", headers=region.headers["aalst"] | {"If-Match": moved.headers["ETag"]})
    assert data(cancelled)["status"] == "cancelled"
    kinds = _events(app, "aalst", data(booked)["id"])
    assert kinds == ["appointment.booked", "appointment.rescheduled", "appointment.cancelled"]


def _events(app: Flask, slug: str, subject: str) -> list[str]:
    with app.app_context(), database().sessions() as session:
        tenant = session.scalars(select(Tenant).where(Tenant.slug == slug)).one()
        with tenant_scope(session, tenant.id):
            return list(session.scalars(select(OutboxEvent.type).where(OutboxEvent.subject == subject)
                                        .order_by(OutboxEvent.id)))


def test_a_pickup_appointment_moves_the_case_and_a_reminder_is_sent_once(
    app: Flask, client: FlaskClient, region: Region
) -> None:
    case = data(client.post("/t/aalst/v1/cases", json={"service": "eid-card", "form": eid_form()},
                            headers=region.headers["aalst"]))
    etag = None
    for step in ("fee_due", "production_ordered", "ready_for_pickup"):
        current = client.get(f"/t/aalst/v1/cases/{case['id']}", headers=region.headers["worker"])
        etag = current.headers["ETag"]
        assert client.post(f"/t/aalst/v1/cases/{case['id']}/transitions", json={"to": step},
                           headers=region.headers["worker"] | {"If-Match": etag}).status_code == 200
    booked = _book(client, region, "aalst", "2027-03-03T09:00:00+01:00", case=case["id"])
    assert data(booked)["case"] == case["id"]
    assert data(client.get(f"/t/aalst/v1/cases/{case['id']}", headers=region.headers["aalst"]))["status"] == \
        "pickup_booked"
    client.post(booked.headers["Location"] + "/cancel", headers=region.headers["aalst"] | {
        "If-Match": booked.headers["ETag"]})
    assert data(client.get(f"/t/aalst/v1/cases/{case['id']}", headers=region.headers["aalst"]))["status"] == \
        "ready_for_pickup"
    soon = _book(client, region, "aalst", "2027-03-04T09:00:00+01:00")
    first = app.test_cli_runner().invoke(cli, ["appointments", "remind", "--hours", "168"])
    assert first.exit_code == 0 and "reminders written: 0" in first.output  # months away
    assert soon.status_code == 201


def test_a_citizen_holds_a_limited_number_of_upcoming_appointments(client: FlaskClient, region: Region) -> None:
    for hour in ("09:00", "09:30"):
        for day in ("2027-03-08", "2027-03-09"):
            answer = _book(client, region, "aalst", f"{day}T{hour}:00+01:00")
            if answer.status_code != 201:
                problem = assert_problem(answer, 422)
                assert problem["code"] == "appointment_limit"
                return
    pytest.fail("the limit never applied")


def test_appointments_stay_with_their_municipality(client: FlaskClient, region: Region) -> None:
    mine = _book(client, region, "ninove", "2027-03-05T09:00:00+01:00")  # a Ninove citizen at Aalst's counter
    assert mine.status_code == 201, mine.get_data(as_text=True)
    url = mine.headers["Location"].replace("/t/ninove/", "/t/aalst/")
    assert_problem(client.get(url, headers=region.headers["aalst"]), 404)  # another municipality's booking
    assert_problem(client.get(url.replace("/t/aalst/", "/t/ninove/"), headers=region.headers["aalst"]), 401)
    assert_problem(client.get(f"/t/ninove/v1/offices/{region.offices['aalst']}"), 404)
    assert data(client.get("/t/aalst/v1/appointments", headers=region.headers["aalst"]))["items"] == []
    day = data(client.get(f"/t/aalst/v1/offices/{region.offices['aalst']}/day?date=2027-03-05",
                          headers=region.headers["worker"]))
    assert [a["id"] for a in day["items"]] == [data(mine)["id"]]  # the counter sees who comes
    assert_problem(client.get(f"/t/aalst/v1/offices/{region.offices['aalst']}/day?date=2027-03-05",
                              headers=region.headers["aalst"]), 403)
    assert_problem(client.put(f"/t/aalst/v1/offices/{region.offices['aalst']}", json={},
                              headers=region.headers["ronse-admin"]), 401)


def test_a_second_counter_serving_the_same_town_orders_by_distance_and_an_office_filter_narrows(
    client: FlaskClient, region: Region
) -> None:
    url = f"/t/ronse/v1/offices/{region.offices['ronse']}"
    etag = client.get(url).headers["ETag"]
    body = office("Ronse", 50.7455, 3.6005, serves=["ninove"])
    assert_problem(client.put(url, json=body, headers=region.headers["ronse-admin"]), 428)
    replaced = client.put(url, json=body, headers=region.headers["ronse-admin"] | {"If-Match": etag})
    assert data(replaced)["services"][0]["serves"] == ["ninove"]
    query = "/v1/slots?service=eid-card&from=2027-03-01&to=2027-03-01&tenant=ninove"
    by_time = data(client.get(query))["items"]
    assert [(s["municipality"], s["start"]) for s in by_time[:2]] == [  # the same time: by office name
        ("aalst", "2027-03-01T09:00:00+01:00"), ("ronse", "2027-03-01T09:00:00+01:00")]
    near_ronse = data(client.get(query + "&near=50.75,3.60"))["items"]
    assert [s["municipality"] for s in near_ronse] == ["ronse", "ronse", "aalst", "aalst"]
    assert near_ronse[0]["distance_km"] < near_ronse[-1]["distance_km"]
    only = starts(client, f"/t/ninove/v1/slots?service=eid-card&from=2027-03-01&to=2027-03-01"
                          f"&office={region.offices['ronse']}")
    assert only == ["2027-03-01T09:00:00+01:00", "2027-03-01T09:30:00+01:00"]
    assert data(client.get(f"/t/ninove/v1/slots?service=eid-card&from=2027-03-01&to=2027-03-01"
                           f"&office={region.offices['ronse']}"))["items"][0]["municipality"] == "ronse"


def test_lead_time_and_horizon_bound_what_can_be_booked(client: FlaskClient, region: Region) -> None:
    body = office("Aalst", 50.9378, 4.0403, serves=["ninove"], lead_minutes=60 * 24 * 7, horizon_days=30)
    url = f"/t/aalst/v1/offices/{region.offices['aalst']}"
    etag = client.get(url).headers["ETag"]
    assert client.put(url, json=body, headers=region.headers["aalst-admin"] | {"If-Match": etag}).status_code == 200
    today = municipal_today()
    soon = starts(client, f"/t/aalst/v1/slots?service=eid-card&from={today}&to={today + timedelta(days=30)}")
    assert soon and all(today + timedelta(days=7) <= date.fromisoformat(s[:10]) <= today + timedelta(days=30)
                        for s in soon)
    too_far = _book(client, region, "aalst", "2027-03-01T09:00:00+01:00")  # a slot, but months ahead
    assert "start" in assert_problem(too_far, 422)["errors"]
    tomorrow = next(d for d in (today + timedelta(days=n) for n in range(1, 8)) if d.weekday() < 5
                    and not data(client.get(f"/t/aalst/v1/slots?service=eid-card&from={d}&to={d}"))["items"])
    assert "start" in assert_problem(_book(client, region, "aalst", f"{tomorrow}T09:00:00+01:00"), 422)["errors"]


def test_an_idempotency_key_books_once(client: FlaskClient, region: Region) -> None:
    headers = region.headers["aalst"] | {"Idempotency-Key": "booking-1"}
    body = {"service": "eid-card", "office": region.offices["aalst"], "start": "2027-03-08T09:00:00+01:00"}
    first = client.post("/t/aalst/v1/appointments", json=body, headers=headers)
    again = client.post("/t/aalst/v1/appointments", json=body, headers=headers)
    assert first.status_code == again.status_code == 201 and data(first)["id"] == data(again)["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    other = client.post("/t/aalst/v1/appointments", json=body | {"start": "2027-03-08T09:30:00+01:00"},
                        headers=headers)
    assert_problem(other, 422)
    assert len(data(client.get("/t/aalst/v1/appointments", headers=region.headers["aalst"]))["items"]) == 1


def test_a_reminder_is_written_once_for_a_visit_that_is_near(app: Flask, client: FlaskClient, region: Region) -> None:
    booked = data(_book(client, region, "aalst", "2027-03-10T09:00:00+01:00"))
    start = datetime.fromisoformat(booked["start"])
    with app.app_context(), database().unit_of_work() as session:
        tenant = session.scalars(select(Tenant).where(Tenant.slug == "aalst")).one()
        with tenant_scope(session, tenant.id):
            assert remind(session, tenant.id, start - timedelta(days=3)) == 0  # not yet within 24 hours
            assert remind(session, tenant.id, start - timedelta(hours=20)) == 1
            assert remind(session, tenant.id, start - timedelta(hours=2)) == 0  # once
    assert _events(app, "aalst", booked["id"]) == ["appointment.booked", "appointment.reminder"]


def test_an_exception_closes_a_day_and_long_calendar_lines_are_folded() -> None:
    closed = Schedule(WEEK, {"2025-12-23": []}, None, "Europe/Brussels")
    assert closed.intervals(date(2025, 12, 23)) == [] and closed.intervals(date(2025, 12, 22))
    line = "DESCRIPTION:" + "Toegankelijk voor rolstoelen, ringleiding aan loket 2 — één lift. " * 4
    folded = fold(line)
    parts = folded.split("\r\n")
    assert len(parts) > 1 and all(len(part.encode()) <= 75 for part in parts)
    assert all(part.startswith(" ") for part in parts[1:])
    assert "".join(part.removeprefix(" ") if n else part for n, part in enumerate(parts)) == line


FAR = ("9999-12-31", "0001-01-01")  # the ends of Python's calendar


def test_dates_at_the_ends_of_the_calendar_are_refused_and_the_edges_of_the_window_answer(
    client: FlaskClient, region: Region
) -> None:
    searches = ("/t/aalst/v1/slots?service=eid-card", "/v1/slots?service=eid-card&tenant=ninove",
                "/v1/slots?service=eid-card&tenant=aalst&near=50.75,3.60")
    for search in searches:
        for day in FAR:
            for query in (f"from={day}", f"to={day}", f"from={day}&to={day}", f"from=2027-03-01&to={day}",
                          f"from={day}&to=2027-03-01"):
                problem = assert_problem(client.get(f"{search}&{query}"), 400)
                assert "1900-01-01" in problem["detail"], problem
        for query in ("from=1900-01-01", "from=1900-01-01&to=1900-01-31", "from=9000-12-31",
                      "from=9000-12-18&to=9000-12-31", "from=9000-12-31&to=9000-12-31"):
            answer = client.get(f"{search}&{query}")
            assert answer.status_code == 200 and data(answer)["items"] == [], answer.get_data(as_text=True)
    day_view = f"/t/aalst/v1/offices/{region.offices['aalst']}/day?date="
    for day in FAR:
        assert_problem(client.get(day_view + day, headers=region.headers["worker"]), 400)
    for day in ("1900-01-01", "9000-12-31"):
        answer = client.get(day_view + day, headers=region.headers["worker"])
        assert answer.status_code == 200 and data(answer)["items"] == [], answer.get_data(as_text=True)


def test_a_booking_or_a_move_at_the_ends_of_the_calendar_is_a_validation_error(
    client: FlaskClient, region: Region
) -> None:
    booked = _book(client, region, "aalst", "2027-03-01T09:00:00+01:00")
    assert booked.status_code == 201, booked.get_data(as_text=True)
    moving = region.headers["aalst"] | {"If-Match": booked.headers["ETag"]}
    for start in ("9999-12-31T23:59:59-01:00", "9999-12-31T23:30:00+00:00", "9999-12-31T23:30:00+14:00",
                  "0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00-12:00",
                  "9000-12-31T09:00:00+01:00", "1900-01-01T09:00:00+01:00"):
        assert "start" in assert_problem(_book(client, region, "aalst", start), 422)["errors"], start
        moved = client.post(booked.headers["Location"] + "/reschedule", json={"start": start}, headers=moving)
        assert "start" in assert_problem(moved, 422)["errors"], start
    kept = data(client.get(booked.headers["Location"], headers=region.headers["aalst"]))["start"]
    assert datetime.fromisoformat(kept) == datetime.fromisoformat("2027-03-01T09:00:00+01:00")  # nothing moved


def _event_data(app: Flask, slug: str, subject: str) -> list[tuple[str, dict[str, Any]]]:
    with app.app_context(), database().sessions() as session:
        tenant = session.scalars(select(Tenant).where(Tenant.slug == slug)).one()
        with tenant_scope(session, tenant.id):
            rows = session.execute(select(OutboxEvent.type, OutboxEvent.data).where(OutboxEvent.subject == subject)
                                   .order_by(OutboxEvent.id)).all()
            return [(kind, dict(body)) for kind, body in rows]


def test_every_moment_of_an_appointment_has_its_office_offset_as_the_slot_had(
    app: Flask, client: FlaskClient, region: Region
) -> None:
    winter = starts(client, "/t/ninove/v1/slots?service=eid-card&from=2027-03-01&to=2027-03-01")[0]
    summer = starts(client, "/t/ninove/v1/slots?service=eid-card&from=2027-06-01&to=2027-06-01")[1]
    assert (winter, summer) == ("2027-03-01T09:00:00+01:00", "2027-06-01T09:30:00+02:00")
    # The same moment written in UTC: the answer still speaks the office's offset.
    booked = _book(client, region, "ninove", "2027-03-01T08:00:00Z")
    assert booked.status_code == 201, booked.get_data(as_text=True)
    body = data(booked)
    assert (body["start"], body["end"]) == (winter, "2027-03-01T09:30:00+01:00")
    created = datetime.fromisoformat(body["created_at"])  # Brussels' offset at that moment, never UTC's
    assert created.utcoffset() == created.astimezone(ZoneInfo("Europe/Brussels")).utcoffset() != timedelta(0)
    url, headers = booked.headers["Location"], region.headers["ninove"]
    assert data(client.get(url, headers=headers))["start"] == winter
    assert [a["start"] for a in data(client.get("/t/ninove/v1/appointments", headers=headers))["items"]] == [winter]
    day = data(client.get(f"/t/aalst/v1/offices/{region.offices['aalst']}/day?date=2027-03-01",
                          headers=region.headers["worker"]))
    assert [(a["start"], a["end"]) for a in day["items"]] == [(winter, "2027-03-01T09:30:00+01:00")]
    moved = client.post(url + "/reschedule", json={"start": "2027-06-01T07:30:00+00:00"},
                        headers=headers | {"If-Match": booked.headers["ETag"]})
    assert (data(moved)["start"], data(moved)["end"]) == (summer, "2027-06-01T10:00:00+02:00")
    with app.app_context(), database().unit_of_work() as session:
        tenant = session.scalars(select(Tenant).where(Tenant.slug == "ninove")).one()
        with tenant_scope(session, tenant.id):
            assert remind(session, tenant.id, datetime.fromisoformat(summer) - timedelta(hours=2)) == 1
    etag = client.get(url, headers=headers).headers["ETag"]
    cancelled = client.post(url + "/cancel", headers=headers | {"If-Match": etag})
    assert data(cancelled)["start"] == summer
    assert [(kind, event["start"]) for kind, event in _event_data(app, "ninove", body["id"])] == [
        ("appointment.booked", winter), ("appointment.rescheduled", summer), ("appointment.reminder", summer),
        ("appointment.cancelled", summer)]


def test_the_calendar_file_changes_only_when_the_visit_does(app: Flask, client: FlaskClient, region: Region) -> None:
    booked = _book(client, region, "aalst", "2027-03-01T09:00:00+01:00")
    assert booked.status_code == 201, booked.get_data(as_text=True)
    url, headers = booked.headers["Location"], region.headers["aalst"]

    def download() -> tuple[bytes, Any]:
        answer = client.get(url + ".ics", headers=headers)
        assert answer.status_code == 200
        return answer.data, icalendar.Calendar.from_ical(answer.data).walk("VEVENT")[0]

    first_bytes, first = download()
    time.sleep(1.1)  # DTSTAMP counts seconds: a later download in another second
    again_bytes, again = download()
    assert again.decoded("DTSTAMP") == first.decoded("DTSTAMP") and again_bytes == first_bytes
    booked_at = datetime.fromisoformat(data(booked)["created_at"])
    assert first.decoded("DTSTAMP") == booked_at.replace(microsecond=0)
    assert first.decoded("LAST-MODIFIED") == first.decoded("DTSTAMP") and first["SEQUENCE"] == 0

    with app.app_context(), database().unit_of_work() as session:  # a reminder is no change for the calendar
        tenant = session.scalars(select(Tenant).where(Tenant.slug == "aalst")).one()
        with tenant_scope(session, tenant.id):
            assert remind(session, tenant.id, datetime.fromisoformat("2027-03-01T06:00:00+01:00")) == 1
    assert download()[0] == first_bytes

    time.sleep(1.1)
    etag = client.get(url, headers=headers).headers["ETag"]
    moved = client.post(url + "/reschedule", json={"start": "2027-03-02T09:30:00+01:00"},
                        headers=headers | {"If-Match": etag})
    assert moved.status_code == 200, moved.get_data(as_text=True)
    _, after_move = download()
    assert after_move.decoded("DTSTAMP") > first.decoded("DTSTAMP") and after_move["SEQUENCE"] == 1
    assert after_move.decoded("DTSTART") == datetime.fromisoformat("2027-03-02T09:30:00+01:00")
    assert after_move.decoded("CREATED") == first.decoded("CREATED")

    time.sleep(1.1)
    cancelled = client.post(url + "/cancel", headers=headers | {"If-Match": moved.headers["ETag"]})
    assert cancelled.status_code == 200
    cancelled_bytes, after_cancel = download()
    assert after_cancel.decoded("DTSTAMP") > after_move.decoded("DTSTAMP") and after_cancel["SEQUENCE"] == 2
    assert after_cancel["STATUS"] == "CANCELLED"
    time.sleep(1.1)
    assert download()[0] == cancelled_bytes
