"""The console end to end in headless Chromium (Debian's, driven by Playwright): a tenant admin signs
in, changes colours and a fee that the public API then shows, edits, dry-runs and activates a rule
that the next application's decision follows; a case worker takes a case from the queue and moves
it. axe-core checks every page type; the run writes screenshots of the main pages."""

import dataclasses
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from flask import Flask
from playwright.sync_api import Browser, Page
from werkzeug.serving import make_server

from api.app import create_app
from api.database import database
from api.settings import Settings
from support.browser import accessible, free_port, launched, person, shot
from support.oauth import REDIRECT, bearer, register, user_token
from support.suite import empty_all_tables
from tenants.operations import create_tenant, update_branding
from tenants.queries import branding_of
from townhall.appointments.operations import save_office
from townhall.appointments.schemas import OfficeInput
from townhall.auth.keys import ensure_signing_key
from townhall.auth.operations import add_membership, create_user
from townhall.auth.scopes import CASE_WORKER, TENANT_ADMIN
from townhall.rules.operations import create_rule
from townhall.services.operations import configure_service
from townhall.tenancy import tenant_scope
from townhall.validation import load

pytestmark = [pytest.mark.committed, pytest.mark.browser]

PASSWORD = "correct horse battery"
PERMIT = {"service": "parking-permit", "form": {"plate": "1-ABC-234", "zone": "A1", "starts_on": "2026-12-01"}}


@dataclass(frozen=True)
class Live:
    url: str
    app: Flask
    rule_id: str
    citizen: dict[str, str]


@pytest.fixture
def live(settings: Settings) -> Iterator[Live]:
    """The app on loopback at the address it names itself by (the console's redirects and the
    authorization server's issuer), with Aalst, its admin, a case worker and a citizen."""
    port = free_port()
    own = dataclasses.replace(settings, base_url=f"http://127.0.0.1:{port}")
    app = create_app(own)
    with app.app_context(), database().unit_of_work() as session:
        ensure_signing_key(session, own.access_token_lifetime)
        aalst = create_tenant(session, {"slug": "aalst", "nis_code": "41002", "default_language": "nl",
                                        "languages": ["nl", "fr", "en"],
                                        "names": {"nl": "Aalst", "fr": "Alost", "en": "Aalst"}}, "test")
        people = {name: create_user(session, {"email": f"{name}@example.org", "display_name": name.title(),
                                              "password": PASSWORD}) for name in ("admin", "worker", "jan", "operator")}
        people["operator"].is_platform_operator = True
        with tenant_scope(session, aalst.id):
            update_branding(session, aalst, branding_of(session, aalst.id),
                            {"display_name": {"nl": "Stad Aalst", "fr": "Ville d'Alost", "en": "City of Aalst"}},
                            "test")
            add_membership(session, aalst.id, people["admin"], TENANT_ADMIN)
            add_membership(session, aalst.id, people["worker"], CASE_WORKER)
            configure_service(session, aalst.id, "parking-permit", {"fee_cents": 5000, "processing_days": 10})
            configure_service(session, aalst.id, "certificate", {"fee_cents": 0, "processing_days": 2})
            rule, _ = create_rule(session, aalst.id, {
                "kind": "fee", "service": "parking-permit", "expression": "5000",
                "examples": [{"input": {"request": {"zone": "A1"}}, "expected": 5000}], "activate": True}, "test")
            rule_id = str(rule.id)
            save_office(session, aalst.id, "Europe/Brussels", load(OfficeInput, {
                "name": "Stadhuis", "address": "Grote Markt 3, Aalst", "lat": 50.93, "long": 4.04,
                "hours": {"mon": [["09:00", "12:00"]]}, "services": [{"service": "eid-card", "duration_minutes": 15}]}),
                {})
    portal = register(app, aalst, ["cases:read", "cases:write"], kind="public", grant_types=["authorization_code"],
                      redirect_uris=[REDIRECT]).client_id
    citizen = bearer(user_token(app, portal, "jan@example.org", PASSWORD, "cases:read cases:write"))
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Live(own.base_url, app, rule_id, citizen)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        app.extensions["townhall.database"].engine.dispose()
        empty_all_tables(settings)


@pytest.fixture
def chromium() -> Iterator[Browser]:
    with launched() as browser:
        yield browser


def _sign_in(page: Page, live: Live, email: str) -> None:
    page.goto(f"{live.url}/t/aalst/admin/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live.url}/t/aalst/admin/")


def _branding_and_fee(admin: Page, live: Live, violations: dict[str, list[str]]) -> None:
    """Colours: one the contrast rule refuses, then one it accepts; a fee. The public API follows."""
    admin.click("nav.sections >> text=Branding")
    admin.fill("#primary_colour", "#ffff33")
    admin.click("button[value=save]")
    assert "contrast" in admin.inner_text("#primary_colour-error")
    accessible(admin, violations, "branding with a refusal")
    admin.fill("#primary_colour", "#005a32")
    admin.click("button[value=preview]")
    assert "--preview-primary: #005a32" in admin.content()
    shot(admin, "console-branding-preview")
    admin.click("button[value=save]")
    assert admin.inner_text("p.notice") == "Saved."
    accessible(admin, violations, "branding")
    assert requests.get(f"{live.url}/t/aalst/v1/branding", timeout=10).json()["colours"]["primary"] == "#005a32"

    admin.click("nav.sections >> text=Catalogue")
    accessible(admin, violations, "catalogue")
    shot(admin, "console-catalogue")
    admin.click("a[href$='/services/certificate']")
    admin.fill("#fee", "4,50")
    admin.click("form.panel button[type=submit]")
    assert admin.inner_text("p.notice") == "Saved."
    accessible(admin, violations, "catalogue entry")
    services = requests.get(f"{live.url}/t/aalst/v1/services", timeout=10).json()["items"]
    assert [s["fee"]["amount_cents"] for s in services if s["code"] == "certificate"] == [450]


def _rule(admin: Page, live: Live, violations: dict[str, list[str]]) -> dict[str, Any]:
    """The permit's fee rule: a new version, a dry run, activation; the next application follows it."""
    admin.goto(f"{live.url}/t/aalst/admin/rules")
    accessible(admin, violations, "rules")
    admin.click(f"a[href$='/rules/{live.rule_id}']")
    admin.fill("#expression", 'request.zone == "A1" ? 7500 : 5000')
    admin.fill("#examples", '[{"input": {"request": {"zone": "A1"}}, "expected": 7500}]')
    admin.click("form[action$='/versions'] button[type=submit]")
    assert admin.inner_text("p.notice") == "Saved."
    admin.select_option("#trial-version", "2")
    admin.fill("#input", '{"request": {"zone": "A1"}}')
    admin.click("form[action$='/dry-run'] button[type=submit]")
    assert admin.inner_text("#dry-run-result").startswith("7500")
    accessible(admin, violations, "rule")
    shot(admin, "console-rule")
    admin.click("button[name=version][value='2']")
    assert admin.inner_text("#active-version") == "2"
    opened = requests.post(f"{live.url}/t/aalst/v1/cases", json=PERMIT, headers=live.citizen, timeout=10)
    assert opened.status_code == 201, opened.text
    assert opened.json()["fee"]["amount_cents"] == 7500
    admin.goto(f"{live.url}/t/aalst/admin/changes")
    accessible(admin, violations, "change history")
    case: dict[str, Any] = opened.json()
    return case


def _people_and_integrations(admin: Page, live: Live, violations: dict[str, list[str]]) -> None:
    """Members, a new client whose secret is shown once, and the webhooks page."""
    admin.click("nav.sections >> text=Members")
    accessible(admin, violations, "members")
    admin.click("nav.sections >> text=Clients (OAuth)")
    admin.fill("#client-name", "Population register sync")
    admin.check("input[name=grant_types][value=client_credentials]")
    admin.check("input[name=scopes][value='events:write']")
    admin.click("form.panel button[type=submit]")
    assert len(admin.inner_text("#client-secret")) >= 32
    accessible(admin, violations, "clients")
    shot(admin, "console-clients")
    admin.click("nav.sections >> text=Webhooks")
    accessible(admin, violations, "webhooks")
    admin.click("nav.sections >> text=Offices and hours")
    accessible(admin, violations, "offices")
    admin.click("text=Stadhuis")
    admin.check("input[name='certificate.offered']")
    admin.click("form.panel:has(h2) button[type=submit]")
    assert admin.is_checked("input[name='certificate.offered']")
    accessible(admin, violations, "office")
    shot(admin, "console-office")
    admin.click("nav.sections >> text=E-mails")
    accessible(admin, violations, "e-mails")
    admin.click("text=case.created")
    admin.fill("#en-subject", "Thank you: {reference} is with us")
    admin.click("form.panel button[type=submit]")
    assert admin.input_value("#en-subject") == "Thank you: {reference} is with us"
    accessible(admin, violations, "e-mail")


def _work(worker: Page, live: Live, case: dict[str, Any], violations: dict[str, list[str]]) -> None:
    """The case worker takes the new case from the queue, in Dutch, and moves it on; then signs out."""
    worker.goto(f"{live.url}/t/aalst/admin/cases?assignee=none&lang=nl")
    accessible(worker, violations, "queue")
    shot(worker, "console-queue")
    worker.click(f"text={case['reference']}")
    worker.click("button[value=me]")
    assert worker.inner_text("#case-assignee") == "worker@example.org"
    worker.fill("#note", "Nummerplaat nagekeken")
    worker.click("button[name=to][value=fee_due]")
    assert worker.inner_text("#case-status") == "fee_due"
    assert worker.title().startswith("Dossier")
    accessible(worker, violations, "case")
    shot(worker, "console-case")
    worker.goto(f"{live.url}/t/aalst/admin/branding")
    accessible(worker, violations, "refusal")  # a case worker is no admin
    worker.click("button:has-text('Afmelden')")
    accessible(worker, violations, "signed out")
    worker.goto(f"{live.url}/t/aalst/admin/cases")
    assert "/oauth/authorize" in worker.url  # signed out: the next page asks to sign in again


def test_an_admin_and_a_case_worker_run_aalst_from_the_console(live: Live, chromium: Browser) -> None:
    violations: dict[str, list[str]] = {}
    admin = person(chromium)
    _sign_in(admin, live, "admin@example.org")
    admin.goto(f"{live.url}/t/aalst/admin/?lang=en")
    accessible(admin, violations, "home")
    shot(admin, "console-home")
    _branding_and_fee(admin, live, violations)
    case = _rule(admin, live, violations)
    _people_and_integrations(admin, live, violations)

    worker = person(chromium)
    _sign_in(worker, live, "worker@example.org")
    _work(worker, live, case, violations)

    operator = person(chromium)
    operator.goto(f"{live.url}/console/?lang=en")
    operator.fill("input[name=email]", "operator@example.org")
    operator.fill("input[name=password]", PASSWORD)
    operator.click("button[type=submit]")
    operator.wait_for_url(f"{live.url}/console/?lang=en")
    assert "aalst · 41002" in operator.inner_text("main")
    accessible(operator, violations, "consortium")
    shot(operator, "console-consortium")
    operator.click("nav.sections >> text=Shared back offices")
    operator.fill("#slug", "dender")
    operator.fill("#name", "Dender back office")
    operator.click("form.panel button[type=submit]")
    operator.select_option("#dender-service", "eid-card")
    operator.click("button:has-text('Delegate')")
    assert "Electronic identity card" in operator.inner_text("section[aria-labelledby=team-dender] table")
    accessible(operator, violations, "teams")

    assert {name: found for name, found in violations.items() if found} == {}
    assert len(violations) >= 21
