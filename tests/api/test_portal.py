"""The citizens' portal of each municipality: its catalogue, in its colours and the citizen's
language, showing no other municipality's configuration."""

import dataclasses
import io
import re
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from api.database import database
from factories import PASSWORD, Town
from support.clock import municipal_today
from support.console import field_error, page_csrf, signed_in_to
from support.contract import assert_problem
from support.evidence import JPEG, eid_form
from support.mollie import mollie_for
from support.oauth import data
from tenants.models import Tenant
from townhall.appointments.models import Appointment
from townhall.appointments.operations import save_office
from townhall.appointments.schemas import OfficeInput
from townhall.cases.cards import CaseCard
from townhall.cases.models import Case
from townhall.cases.operations import open_case
from townhall.services.operations import configure_service
from townhall.tenancy import Municipality, tenant_scope
from townhall.validation import load


def _offer(app: Flask, tenant: Tenant, code: str, **settings: object) -> None:
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, tenant.id):
        configure_service(session, tenant.id, code, settings)


def test_the_portal_shows_the_catalogue_with_fees_times_and_what_to_bring(
    app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant]
) -> None:
    aalst = make_tenant("aalst", "41002")
    _offer(app, aalst, "eid-card", fee_cents=2500, processing_days=10)
    _offer(app, aalst, "certificate", fee_cents=0, processing_days=0)
    page = client.get("/t/aalst/", headers={"Accept-Language": "nl-BE,nl;q=0.9"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert page.headers["Content-Language"] == "nl" and "frame-ancestors 'none'" in page.headers[
        "Content-Security-Policy"]
    html = page.get_data(as_text=True)
    assert 'lang="nl"' in html and "Onze diensten" in html
    assert "€ 25,00" in html and "10 werkdagen" in html and "Een recente pasfoto" in html
    assert "Gratis" in html and "Meteen klaar" in html


def test_a_language_chosen_is_remembered(app: Flask, client: FlaskClient,
                                         make_tenant: Callable[..., Tenant]) -> None:
    make_tenant("aalst", "41002")
    chosen = client.get("/t/aalst/?lang=fr", headers={"Accept-Language": "nl"})
    assert 'lang="fr"' in chosen.get_data(as_text=True) and "console_language=fr" in chosen.headers["Set-Cookie"]
    again = client.get("/t/aalst/", headers={"Accept-Language": "nl"})
    assert again.headers["Content-Language"] == "fr" and "Nos services" in again.get_data(as_text=True)


def test_another_municipalitys_portal_shows_none_of_this_ones_configuration(
    app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant]
) -> None:
    aalst, ronse = make_tenant("aalst", "41002"), make_tenant("ronse", "45041")
    _offer(app, aalst, "eid-card", fee_cents=4321, processing_days=17)
    _offer(app, ronse, "certificate", fee_cents=0, processing_days=0)
    html = client.get("/t/ronse/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "43,21" not in html and "17 working days" not in html and "service-eid-card" not in html
    assert "service-certificate" in html
    assert "43,21" in client.get("/t/aalst/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert_problem(client.get("/t/nowhere/"), 404)


def _open_for(app: Flask, tenant: Tenant, email: str, service: str, form: dict[str, Any]) -> CaseCard:
    """A case opened for a person as staff would (straight through the kernel's operation)."""
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, tenant.id):
        municipality = Municipality(tenant.id, tenant.slug, tenant.slug.title(), f"https://townhall.test/t/{tenant.slug}/v1")
        case, _ = open_case(session, app.extensions["townhall.storage"], municipality, service, form, email, "test",
                            municipal_today())
        return case


def test_a_citizen_signs_in_and_sees_their_cases_of_every_municipality(
    app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant], town: Town
) -> None:
    ninove = make_tenant("ninove", "41048")
    _offer(app, ninove, "parking-permit", fee_cents=5000, processing_days=5)
    permit = _open_for(app, ninove, "jan@example.org", "parking-permit",
                       {"plate": "1-ABC-234", "zone": "A1", "starts_on": "2026-12-01"})
    card = data(client.post("/t/aalst/v1/cases", json={"service": "eid-card", "form": eid_form()},
                            headers=town.headers["jan"]))
    other = data(client.post("/t/aalst/v1/cases", json={"service": "eid-card", "form": eid_form()},
                             headers=town.headers["an"]))

    jan = signed_in_to(app, "/t/aalst", "jan@example.org", PASSWORD)
    mine = jan.get("/t/aalst/cases")
    assert mine.status_code == 200
    html = mine.get_data(as_text=True)
    assert card["reference"] in html and permit.reference in html and other["reference"] not in html
    assert f'href="/t/ninove/cases/{permit.id}"' in html

    page = jan.get(f"/t/aalst/cases/{card['id']}")
    assert page.status_code == 200 and card["reference"] in page.get_data(as_text=True)
    assert jan.get(f"/t/aalst/cases/{other['id']}").status_code == 404  # another citizen's case
    assert jan.get(f"/t/aalst/cases/{permit.id}").status_code == 404  # Ninove's case is not Aalst's
    assert jan.get(f"/t/aalst/cases/{card['id']}/documents/{uuid.UUID(int=1)}").status_code == 404

    empty = jan.post(f"/t/aalst/cases/{card['id']}/messages", data={"csrf": page_csrf(page), "body": "  "})
    assert empty.status_code == 422 and field_error(empty, "message-body")
    sent = jan.post(f"/t/aalst/cases/{card['id']}/messages", data={"csrf": page_csrf(page), "body": "Op zaterdag?"})
    assert sent.status_code == 303
    replied = client.post(f"/t/aalst/v1/cases/{card['id']}/messages", json={"body": "Ja, tot 12 uur."},
                          headers=town.headers["worker"])
    assert replied.status_code == 201
    conversation = jan.get(f"/t/aalst/cases/{card['id']}").get_data(as_text=True)
    assert "Op zaterdag?" in conversation and "Ja, tot 12 uur." in conversation
    assert jan.post(f"/t/aalst/cases/{other['id']}/messages", data={"csrf": page_csrf(page), "body": "Hallo"}
                    ).status_code == 404  # another citizen's case
    signed_out = jan.post("/t/aalst/sign-out", data={"csrf": page_csrf(page)})
    assert signed_out.status_code == 303
    assert jan.get("/t/aalst/cases").status_code == 303  # to the sign-in again


def test_a_citizen_pays_the_fee_from_the_portal(app: Flask, client: FlaskClient, town: Town) -> None:
    created = client.post("/t/aalst/v1/cases", json={"service": "eid-card", "form": eid_form()},
                          headers=town.headers["jan"])
    client.post(created.headers["Location"] + "/transitions", json={"to": "fee_due"},
                headers=town.headers["worker"] | {"If-Match": created.headers["ETag"]})
    case = data(created)["id"]
    jan = signed_in_to(app, "/t/aalst", "jan@example.org", PASSWORD)
    page = jan.get(f"/t/aalst/cases/{case}")
    assert "€ 25,00" in page.get_data(as_text=True)
    assert jan.post(f"/t/aalst/cases/{case}/pay", data={}).status_code == 400  # no CSRF token: nothing happens
    assert jan.post(f"/t/aalst/cases/{case}/pay", data={"csrf": page_csrf(page)}).status_code == 409  # no Mollie
    with mollie_for(app) as mollie:
        assert mollie.payments == {}
        to_checkout = jan.post(f"/t/aalst/cases/{case}/pay", data={"csrf": page_csrf(page)})
        assert to_checkout.status_code == 303
        [(ref, payment)] = mollie.payments.items()
        assert to_checkout.headers["Location"] == payment.body["_links"]["checkout"]["href"]
        assert payment.body["redirectUrl"] == f"https://townhall.test/t/aalst/cases/{case}?paid=1"
        back = jan.get(f"/t/aalst/cases/{case}?paid=1")  # the return alone pays nothing
        assert "te betalen" in back.get_data(as_text=True)
        mollie.settle(ref)
        client.post("/t/aalst/v1/payments/webhooks/mollie", data={"id": ref})
        again = jan.post(f"/t/aalst/cases/{case}/pay", data={"csrf": page_csrf(page)})  # a second tab, say
        assert again.status_code == 409 and again.mimetype == "text/html" and len(mollie.payments) == 1
    paid = jan.get(f"/t/aalst/cases/{case}").get_data(as_text=True)
    assert "in aanmaak" in paid and "receipt-" in paid


def test_a_citizen_applies_with_the_form_the_service_publishes(app: Flask, town: Town) -> None:
    jan = signed_in_to(app, "/t/aalst", "jan@example.org", PASSWORD)
    form = jan.get("/t/aalst/apply/eid-card")
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    assert 'name="reason"' in html and 'type="file"' in html and 'name="photo"' in html
    refused = jan.post("/t/aalst/apply/eid-card", data={"csrf": page_csrf(form), "reason": "stolen"},
                       content_type="multipart/form-data")
    assert refused.status_code == 422  # the kernel's own messages, at the fields
    assert field_error(refused, "field-photo") and field_error(refused, "field-police_report")
    assert 'value="stolen" selected' in refused.get_data(as_text=True)
    with app.app_context(), database().sessions() as session, tenant_scope(session, town.tenant.id):
        before = session.scalar(select(func.count()).select_from(Case)) or 0
    opened = jan.post("/t/aalst/apply/eid-card", data={"csrf": page_csrf(form), "reason": "renewal",
                                                       "photo": (io.BytesIO(JPEG), "me.jpg", "image/jpeg")},
                      content_type="multipart/form-data")
    assert opened.status_code == 303 and "/t/aalst/cases/" in opened.headers["Location"]
    case = jan.get(opened.headers["Location"]).get_data(as_text=True)
    assert "AALST-" in case and "ingediend" in case
    with app.app_context(), database().sessions() as session, tenant_scope(session, town.tenant.id):
        assert session.scalar(select(func.count()).select_from(Case)) == before + 1
    assert jan.get("/t/aalst/apply/no-such-service").status_code == 404


def test_a_form_with_nested_fields_and_rows_round_trips(app: Flask, make_tenant: Callable[..., Tenant],
                                                        town: Town) -> None:
    _offer(app, town.tenant, "bulky-waste", fee_cents=2000, processing_days=10)
    _offer(app, town.tenant, "address-change", fee_cents=0, processing_days=15)
    jan = signed_in_to(app, "/t/aalst", "jan@example.org", PASSWORD)
    form = jan.get("/t/aalst/apply/bulky-waste")
    assert 'name="items.0.kind"' in form.get_data(as_text=True)
    opened = jan.post("/t/aalst/apply/bulky-waste", data={
        "csrf": page_csrf(form), "items.0.kind": "mattress", "items.0.quantity": "2", "items.1.kind": "wood",
        "items.1.quantity": "1", "volume_m3": "1,5"}, content_type="multipart/form-data")
    assert opened.status_code == 303, opened.get_data(as_text=True)
    moved = jan.get("/t/aalst/apply/address-change")
    opened = jan.post("/t/aalst/apply/address-change", data={
        "csrf": page_csrf(moved), "new_address.street": "Grote Markt", "new_address.number": "3",
        "new_address.postal_code": "9300", "new_address.municipality": "Aalst",
        "moved_on": municipal_today().isoformat(), "household": "An\nPiet\n"}, content_type="multipart/form-data")
    assert opened.status_code == 303, opened.get_data(as_text=True)
    with app.app_context(), database().sessions() as session, tenant_scope(session, town.tenant.id):
        forms = {c.service: c.form for c in session.scalars(select(Case).where(Case.tenant_id == town.tenant.id))}
    assert forms["bulky-waste"]["items"] == [{"kind": "mattress", "quantity": 2}, {"kind": "wood", "quantity": 1}]
    assert forms["bulky-waste"]["volume_m3"] == 1.5
    assert forms["address-change"]["new_address"]["street"] == "Grote Markt"
    assert forms["address-change"]["household"] == ["An", "Piet"]


def test_a_citizen_accepts_one_offer_with_a_photo_and_declines_another(
    app: Flask, client: FlaskClient, rules_town: Town
) -> None:
    for trigger in ("be.person.turns-18", "be.document.eid-expiring"):
        rules_town.rule(client, {"kind": "proactive", "service": "eid-card", "trigger": trigger, "expression": "true",
                                 "action": {"type": "offer", "form": {"reason": "first"}}})
    born = date(municipal_today().year - 18, 1, 1).isoformat()
    rules_town.event(client, "b-1", "be.person.turns-18", "jan", birth_date=born)
    rules_town.event(client, "e-1", "be.document.eid-expiring", "jan", expires_on=municipal_today().isoformat())
    offers = data(client.get("/t/aalst/v1/me/proactive", headers=rules_town.headers["jan"]))["items"]
    first, second = (uuid.UUID(o["id"]) for o in offers)
    jan = signed_in_to(app, "/t/aalst", "jan@example.org", PASSWORD)
    page = jan.get("/t/aalst/for-you")
    assert page.status_code == 200 and page.get_data(as_text=True).count('name="photo"') == 2
    csrf = page_csrf(page)
    unfinished = jan.post(f"/t/aalst/for-you/{first}/accept", data={"csrf": csrf}, content_type="multipart/form-data")
    assert unfinished.status_code == 422 and field_error(unfinished, f"field-photo-{first}")
    accepted = jan.post(f"/t/aalst/for-you/{first}/accept", content_type="multipart/form-data",
                        data={"csrf": csrf, "photo": (io.BytesIO(JPEG), "me.jpg", "image/jpeg")})
    assert accepted.status_code == 303 and "/t/aalst/cases/" in accepted.headers["Location"]
    assert jan.post(f"/t/aalst/for-you/{second}/decline", data={"csrf": csrf}).status_code == 303
    assert jan.post(f"/t/aalst/for-you/{second}/decline", data={"csrf": csrf}).status_code == 409
    statuses = {o["id"]: o["status"] for o in data(client.get("/t/aalst/v1/me/proactive",
                                                              headers=rules_town.headers["jan"]))["items"]}
    assert statuses == {str(first): "accepted", str(second): "declined"}
    an = signed_in_to(app, "/t/aalst", "an@example.org", PASSWORD)
    assert an.post(f"/t/aalst/for-you/{first}/accept", data={"csrf": page_csrf(an.get("/t/aalst/for-you"))},
                   content_type="multipart/form-data").status_code == 404  # not hers


def _visits(app: Flask, town: Town) -> list[Appointment]:
    with app.app_context(), database().sessions() as session, tenant_scope(session, town.tenant.id):
        return list(session.scalars(select(Appointment).where(Appointment.tenant_id == town.tenant.id)))


def test_a_citizen_books_moves_and_cancels_a_visit_at_a_counter_of_the_region(
    app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant], town: Town
) -> None:
    ninove = make_tenant("ninove", "41048")
    hours = {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat")}
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, ninove.id):
        save_office(session, ninove.id, "Europe/Brussels", load(OfficeInput, {
            "name": "Stadhuis Ninove", "address": "Centrumlaan 100, Ninove", "lat": 50.83, "long": 4.02,
            "hours": hours, "services": [{"service": "eid-card", "duration_minutes": 15}]}),
            {"eid-card": [town.tenant.id]})  # Ninove's counter serves Aalst's citizens too
    card = client.post("/t/aalst/v1/cases", json={"service": "eid-card", "form": eid_form()},
                       headers=town.headers["jan"])
    case = data(card)["id"]
    jan = signed_in_to(app, "/t/aalst", "jan@example.org", PASSWORD)
    assert "/visit" in jan.get(f"/t/aalst/cases/{case}").get_data(as_text=True)
    picker = jan.get(f"/t/aalst/cases/{case}/visit")
    html = picker.get_data(as_text=True)
    assert "Stadhuis Ninove (ninove)" in html
    choices = re.findall(r'name="slot" value="([^"]+)"', html)
    assert len(choices) >= 2 and all("+01:00" in c or "+02:00" in c for c in choices)  # the office's own time
    assert jan.post(f"/t/aalst/cases/{case}/visit", data={"csrf": page_csrf(picker), "slot": "nonsense"}
                    ).status_code == 422
    booked = jan.post(f"/t/aalst/cases/{case}/visit", data={"csrf": page_csrf(picker), "slot": choices[0]})
    assert booked.status_code == 303
    page = jan.get(f"/t/aalst/cases/{case}")
    visit_id = re.search(r"/t/aalst/visits/([0-9a-f-]+)\.ics", page.get_data(as_text=True))
    assert visit_id is not None
    ics = jan.get(f"/t/aalst/visits/{visit_id.group(1)}.ics")
    assert ics.mimetype == "text/calendar" and b"Stadhuis Ninove" in ics.get_data()
    moved = jan.post(f"/t/aalst/cases/{case}/visit", data={"csrf": page_csrf(picker), "slot": choices[1]})
    assert moved.status_code == 303
    assert [(a.status, a.starts_at) for a in _visits(app, town)] == [
        ("booked", datetime.fromisoformat(choices[1].split("|")[1]))]  # moved, not a second visit
    an = signed_in_to(app, "/t/aalst", "an@example.org", PASSWORD)
    assert an.get(f"/t/aalst/visits/{visit_id.group(1)}.ics").status_code == 404  # not hers
    cancelled = jan.post(f"/t/aalst/visits/{visit_id.group(1)}/cancel", data={"csrf": page_csrf(page)})
    assert cancelled.status_code == 303
    assert [a.status for a in _visits(app, town)] == ["cancelled"]


def test_a_report_in_public_space_is_pinned_on_a_map_or_given_by_its_coordinates(
    app: Flask, town: Town
) -> None:
    _offer(app, town.tenant, "public-space-report", fee_cents=0, processing_days=10)
    jan = signed_in_to(app, "/t/aalst", "jan@example.org", PASSWORD)
    plain = jan.get("/t/aalst/apply/public-space-report")
    html = plain.get_data(as_text=True)
    assert 'id="field-lat"' in html and 'id="field-long"' in html and 'id="field-address"' in html
    assert "report-map" not in html and "leaflet" not in html  # no tiles set up: the fields alone
    opened = jan.post("/t/aalst/apply/public-space-report", content_type="multipart/form-data", data={
        "csrf": page_csrf(plain), "category": "pothole", "description": "A deep hole by the school.",
        "lat": "50,9381", "long": "4.0392"})
    assert opened.status_code == 303, opened.get_data(as_text=True)
    with app.app_context(), database().sessions() as session, tenant_scope(session, town.tenant.id):
        report = session.scalars(select(Case).where(Case.service == "public-space-report")).one()
    assert (report.form["lat"], report.form["long"]) == (50.9381, 4.0392)

    tiles = "https://tiles.example.org/{z}/{x}/{y}.png"
    app.config["TOWNHALL_SETTINGS"] = dataclasses.replace(app.config["TOWNHALL_SETTINGS"], map_tiles_url=tiles)
    try:
        mapped = jan.get("/t/aalst/apply/public-space-report")
    finally:
        app.config["TOWNHALL_SETTINGS"] = dataclasses.replace(app.config["TOWNHALL_SETTINGS"], map_tiles_url=None)
    html = mapped.get_data(as_text=True)
    assert f'data-tiles="{tiles}"' in html and "vendor/leaflet-1.9.4/leaflet.js" in html and 'id="field-lat"' in html
    assert "https://tiles.example.org" in mapped.headers["Content-Security-Policy"]
    assert "report-map" not in jan.get("/t/aalst/apply/eid-card").get_data(as_text=True)
