"""The citizens' portal in headless Chromium: every demo municipality's portal in its own colours,
checked by axe-core (its contrast with it), with screenshots of two of them."""

import dataclasses
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, FilePayload, Page
from werkzeug.serving import make_server

from api.app import create_app
from api.database import database
from api.settings import Settings
from support.browser import accessible, free_port, launched, person, shot
from support.evidence import JPEG
from support.mollie import MollieStandIn, mollie_for
from support.suite import empty_all_tables
from tenants.demo import DEMO_TENANTS, seed_demo
from townhall.appointments.operations import save_office
from townhall.appointments.queries import offices_of
from townhall.appointments.schemas import OfficeInput
from townhall.auth.keys import ensure_signing_key
from townhall.auth.operations import add_membership, create_user
from townhall.auth.scopes import CASE_WORKER
from townhall.cases.models import Case
from townhall.cases.operations import move_case, open_case
from townhall.ids import new_id
from townhall.proactive.models import ProactiveAction
from townhall.tenancy import Municipality, tenant_scope
from townhall.validation import load

pytestmark = [pytest.mark.committed, pytest.mark.browser]


PASSWORD = "correct horse battery"
PERMIT = {"plate": "1-ABC-234", "zone": "A1", "starts_on": "2026-12-01"}
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Live:
    url: str
    app: Flask


@contextmanager
def _served(settings: Settings) -> Iterator[Live]:
    """The app on loopback with the demo consortium, each municipality in its demo colours, and a
    citizen (an offer waiting for him in Aalst, a parking permit waiting for its fee there and a
    certificate from Ninove)."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    # Map tiles from the app itself (no network here): any image will do for placing a pin.
    tiles = base_url + "/assets/console/vendor/leaflet-1.9.4/images/layers.png?z={z}&x={x}&y={y}"
    own = dataclasses.replace(settings, base_url=base_url, map_tiles_url=tiles)
    app = create_app(own)
    with app.app_context(), database().unit_of_work() as session:
        ensure_signing_key(session, own.access_token_lifetime)
        towns = {tenant.slug: tenant for tenant in seed_demo(session)}  # each in its demo colours
        jan = create_user(session, {"email": "jan@example.org", "display_name": "Jan", "password": PASSWORD})
        worker = create_user(session, {"email": "worker@example.org", "display_name": "Worker", "password": PASSWORD})
        with tenant_scope(session, towns["aalst"].id):  # what a proactive rule offered him
            add_membership(session, towns["aalst"].id, worker, CASE_WORKER)
            session.add(ProactiveAction(tenant_id=towns["aalst"].id, rule_id=new_id(), rule_version=1,
                                        person_ref="p-jan", user_id=jan.id, trigger_key="eid-expiring", action="offer",
                                        status="offered", service="eid-card", form={"reason": "renewal"},
                                        message="Your identity card expires in two months: renew it?"))
            session.flush()
        for slug, service, form in (("aalst", "parking-permit", PERMIT),
                                    ("ninove", "certificate", {"kind": "residence"})):
            town = towns[slug]
            with tenant_scope(session, town.id):
                municipality = Municipality(town.id, slug, slug.title(), f"{own.base_url}/t/{slug}/v1")
                case, _ = open_case(session, app.extensions["townhall.storage"], municipality, service, form,
                                    "jan@example.org", "test", date.today())
                if service == "parking-permit":
                    move_case(session, session.get_one(Case, (town.id, case.id)), "fee_due", CASE_WORKER, "test")
                session.flush()  # within the municipality's scope
        with tenant_scope(session, towns["ninove"].id):  # Ninove's counter takes Aalst's pickups too
            office, _ = offices_of(session, towns["ninove"].id)[0]
            values = load(OfficeInput, {"name": office.name, "address": office.address, "lat": office.lat,
                                        "long": office.long, "hours": {d: [["08:00", "19:00"]] for d in WEEK},
                                        "services": [{"service": "eid-card", "duration_minutes": 15, "counters": 2}]})
            save_office(session, towns["ninove"].id, "Europe/Brussels", values, {"eid-card": [towns["aalst"].id]},
                        office, actor="test")
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Live(own.base_url, app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        app.extensions["townhall.database"].engine.dispose()
        empty_all_tables(settings)


@pytest.fixture
def portal_url(settings: Settings) -> Iterator[str]:
    with _served(settings) as live:
        yield live.url


@pytest.fixture
def journey(settings: Settings) -> Iterator[tuple[Live, MollieStandIn]]:
    """As `portal_url`, and fees paid through a stand-in of Mollie (its checkout page included)."""
    with _served(settings) as live, mollie_for(live.app) as mollie:
        yield live, mollie


@pytest.fixture
def chromium() -> Iterator[Browser]:
    with launched() as browser:
        yield browser


def _every_demo_portal(citizen: Page, portal_url: str, violations: dict[str, list[str]]) -> None:
    for entry in DEMO_TENANTS:
        slug = entry["tenant"]["slug"]
        citizen.goto(f"{portal_url}/t/{slug}/")
        assert citizen.inner_text("h1") == "Onze diensten"
        assert entry["branding"]["display_name"]["nl"] in citizen.inner_text("header")
        accessible(citizen, violations, f"portal home, {slug}")
    citizen.goto(f"{portal_url}/t/aalst/?lang=en")
    assert citizen.inner_text("h1") == "Our services" and "Electronic identity card" in citizen.inner_text("main")
    shot(citizen, "portal-aalst")
    citizen.goto(f"{portal_url}/t/ninove/")  # English remembered
    assert citizen.inner_text("h1") == "Our services"
    shot(citizen, "portal-ninove")


def _sign_in_and_my_cases(citizen: Page, portal_url: str, violations: dict[str, list[str]]) -> None:
    citizen.goto(f"{portal_url}/t/aalst/")
    citizen.click("header >> text=Sign in")
    citizen.fill("input[name=email]", "jan@example.org")
    citizen.fill("input[name=password]", PASSWORD)
    citizen.click("button[type=submit]")
    citizen.wait_for_url(f"{portal_url}/t/aalst/cases")
    assert "AALST-" in citizen.inner_text("main") and "NINOVE-" in citizen.inner_text("main")
    accessible(citizen, violations, "portal my cases")
    shot(citizen, "portal-my-cases")
    citizen.click("main >> text=AALST-")
    assert "€ 50,00" in citizen.inner_text("main")
    accessible(citizen, violations, "portal case")
    shot(citizen, "portal-case")
    assert "at the counter" in citizen.inner_text("main")  # no payment provider set up here


def _apply(citizen: Page, portal_url: str, violations: dict[str, list[str]]) -> None:
    citizen.goto(f"{portal_url}/t/aalst/")
    citizen.click("#service-eid-card a.button")
    accessible(citizen, violations, "portal application form")
    citizen.select_option("#field-reason", "stolen")
    citizen.click("button:has-text('Send the application')")  # no photo, no police report: refused at the fields
    assert citizen.inner_text("#field-photo-error") and citizen.inner_text("#field-police_report-error")
    accessible(citizen, violations, "portal application form with errors")
    shot(citizen, "portal-apply")
    citizen.goto(f"{portal_url}/t/aalst/apply/public-space-report")
    citizen.wait_for_selector("#report-map .leaflet-container, #report-map.leaflet-container")
    assert citizen.input_value("#field-lat") == ""
    citizen.click("#report-map", position={"x": 200, "y": 150})  # the pin: latitude and longitude filled
    assert citizen.input_value("#field-lat").startswith("50.") and citizen.input_value("#field-long").startswith("4.")
    accessible(citizen, violations, "portal report with a map")
    shot(citizen, "portal-report-map")


def _offer_and_visit(citizen: Page, portal_url: str, violations: dict[str, list[str]]) -> None:
    citizen.click("header >> text=For you")
    assert "expires in two months" in citizen.inner_text("main")
    accessible(citizen, violations, "portal for you")
    shot(citizen, "portal-for-you")
    photo: FilePayload = {"name": "me.jpg", "mimeType": "image/jpeg", "buffer": JPEG}
    citizen.set_input_files("main input[type=file]", files=[photo])
    citizen.click("button:has-text('Yes, please')")
    assert "Electronic identity card" in citizen.inner_text("h1")  # the case the offer opened
    citizen.click("main >> text=Book a visit")
    accessible(citizen, violations, "portal visit")
    citizen.check("#slot-1")
    citizen.click("button:has-text('Book this time')")
    assert "booked" in citizen.inner_text("main") and ".ics" in citizen.inner_html("main")
    shot(citizen, "portal-visit-booked")
    citizen.goto(f"{portal_url}/t/aalst/cases/{uuid.UUID(int=1)}")
    assert "no such case" in citizen.inner_text("main")
    accessible(citizen, violations, "portal refusal")


def _second_theme(citizen: Page, portal_url: str, violations: dict[str, list[str]]) -> None:
    """The signed-in page types again in Ninove's colours (its portal's own sign-in goes through at once:
    the authorization server remembers the person)."""
    citizen.goto(f"{portal_url}/t/ninove/cases")
    citizen.wait_for_url(f"{portal_url}/t/ninove/cases")
    accessible(citizen, violations, "portal my cases, ninove")
    citizen.click("main >> text=NINOVE-")
    assert "Certificate" in citizen.inner_text("h1")
    accessible(citizen, violations, "portal case, ninove")
    citizen.goto(f"{portal_url}/t/ninove/apply/eid-card")
    accessible(citizen, violations, "portal application form, ninove")
    citizen.goto(f"{portal_url}/t/ninove/for-you")
    accessible(citizen, violations, "portal for you, ninove")
    shot(citizen, "portal-ninove-case-list")


def test_a_citizen_goes_through_the_portal_readable_in_every_demo_theme(portal_url: str, chromium: Browser) -> None:
    """Every demo municipality's portal in its own colours, then a citizen signing in, their cases,
    applying, an offer and a visit: axe-core finds nothing serious on any page type."""
    violations: dict[str, list[str]] = {}
    citizen = person(chromium, locale="nl-BE")
    _every_demo_portal(citizen, portal_url, violations)
    _sign_in_and_my_cases(citizen, portal_url, violations)
    _apply(citizen, portal_url, violations)
    _offer_and_visit(citizen, portal_url, violations)
    _second_theme(citizen, portal_url, violations)
    assert {name: found for name, found in violations.items() if found} == {}
    assert len(violations) == len(DEMO_TENANTS) + 8 + 4  # eight page types signed in, four again in Ninove


def _console_step(worker: Page, url: str, reference: str, to: str) -> None:
    """The case worker opens the case in Aalst's console and takes one step."""
    worker.goto(f"{url}/t/aalst/admin/cases?lang=en")
    worker.click(f"text={reference}")
    worker.click(f"button[name=to][value={to}]")
    assert worker.inner_text("#case-status") == to


def test_a_citizen_applies_pays_books_the_pickup_in_ninove_and_follows_the_case(
    journey: tuple[Live, MollieStandIn], chromium: Browser
) -> None:
    live, mollie = journey
    citizen = person(chromium)
    citizen.goto(f"{live.url}/t/aalst/?lang=en")
    citizen.click("header >> text=Sign in")
    citizen.fill("input[name=email]", "jan@example.org")
    citizen.fill("input[name=password]", PASSWORD)
    citizen.click("button[type=submit]")
    citizen.wait_for_url(f"{live.url}/t/aalst/cases")
    assert "NINOVE-" in citizen.inner_text("main")  # his Ninove case in the same list

    citizen.goto(f"{live.url}/t/aalst/")
    citizen.click("#service-eid-card a.button")
    citizen.select_option("#field-reason", "renewal")
    photo: FilePayload = {"name": "me.jpg", "mimeType": "image/jpeg", "buffer": JPEG}
    citizen.set_input_files("#field-photo", files=[photo])
    citizen.click("button:has-text('Send the application')")
    reference = citizen.inner_text("h1").split(" · ")[-1]
    assert reference.startswith("AALST-") and "submitted" in citizen.inner_text("main")
    case_url = citizen.url

    worker = person(chromium)
    worker.goto(f"{live.url}/t/aalst/admin/")
    worker.fill("input[name=email]", "worker@example.org")
    worker.fill("input[name=password]", PASSWORD)
    worker.click("button[type=submit]")
    worker.wait_for_url(f"{live.url}/t/aalst/admin/")
    _console_step(worker, live.url, reference, "fee_due")

    citizen.goto(case_url)
    citizen.click("button:has-text('Pay online now')")  # to Mollie's checkout
    assert citizen.url.startswith(mollie.url) and "EUR 20.00" in citizen.inner_text("h1")
    citizen.click("button:has-text('Pay')")  # Mollie tells Townhall, then sends the citizen back
    citizen.wait_for_url(case_url + "?paid=1")
    assert "production ordered" in citizen.inner_text("main") and "receipt-" in citizen.inner_text("main")

    _console_step(worker, live.url, reference, "ready_for_pickup")
    citizen.goto(case_url)
    assert "ready for pickup" in citizen.inner_text("main")  # the worker's step, seen by the citizen
    citizen.click("main >> text=Book a visit")
    citizen.click("label:has-text('Stadhuis Ninove') >> nth=0")
    citizen.click("button:has-text('Book this time')")
    assert "pickup booked" in citizen.inner_text("main") and "Stadhuis Ninove" in citizen.inner_text("main")
    with citizen.expect_download() as download:
        citizen.click("text=Add to your calendar (.ics)")
    ics = Path(download.value.path()).read_bytes()
    assert b"BEGIN:VCALENDAR" in ics and b"Stadhuis Ninove" in ics
    shot(citizen, "portal-journey-pickup-booked")

    _console_step(worker, live.url, reference, "handed_over")
    citizen.goto(case_url)
    assert "handed over" in citizen.inner_text("main")
