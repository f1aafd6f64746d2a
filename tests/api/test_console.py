"""The tenant admin console at /t/<tenant>/admin/: signing in through the authorization server, the
server-side session, CSRF, languages, isolation between municipalities, and each form acting through
the kernel exactly as the admin API does."""

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from api.database import database
from support.console import browser, field_error, local, page_csrf, sign_in
from support.contract import assert_problem
from support.oauth import REDIRECT, basic, bearer, data, register, token, user_token
from tenants.models import Tenant
from tenants.queries import branding_of, require_tenant
from townhall.appointments.operations import save_office
from townhall.appointments.schemas import OfficeInput
from townhall.audit.queries import AuditFilter, audit_entries
from townhall.auth.models import WebSession
from townhall.auth.operations import add_membership, create_team, create_user, remove_membership
from townhall.auth.queries import client_by_id, delegations_of_tenant, user_by_email
from townhall.auth.scopes import CASE_WORKER, TENANT_ADMIN
from townhall.changes.queries import history
from townhall.outbox.models import OutboxEvent, Subscription
from townhall.rules.operations import create_rule
from townhall.services.operations import configure_service
from townhall.tenancy import tenant_scope
from townhall.validation import load

PASSWORD = "correct horse battery"
PERMIT = {"service": "parking-permit", "form": {"plate": "1-ABC-234", "zone": "A1", "starts_on": "2026-12-01"}}


@dataclass(frozen=True)
class Consortium:
    aalst: Tenant
    ninove: Tenant
    rule_id: str
    case_id: str


def _person(session: Any, name: str) -> Any:
    return create_user(session, {"email": f"{name}@example.org", "display_name": name.title(), "password": PASSWORD})


@pytest.fixture
def consortium(app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant], signing_key: None) -> Consortium:
    aalst, ninove = make_tenant("aalst", "41002"), make_tenant("ninove", "41048")
    with app.app_context(), database().unit_of_work() as session:
        people = {name: _person(session, name) for name in ("admin", "worker", "jan", "nadmin")}
        with tenant_scope(session, aalst.id):
            add_membership(session, aalst.id, people["admin"], TENANT_ADMIN)
            add_membership(session, aalst.id, people["worker"], CASE_WORKER)
            configure_service(session, aalst.id, "certificate", {"fee_cents": 0, "processing_days": 5})
            configure_service(session, aalst.id, "parking-permit", {"fee_cents": 5000, "processing_days": 10})
            rule, _ = create_rule(session, aalst.id, {
                "kind": "fee", "service": "certificate", "expression": "0",
                "examples": [{"input": {"request": {"kind": "life"}}, "expected": 0}], "activate": True}, "test")
            rule_id = str(rule.id)
        with tenant_scope(session, ninove.id):
            add_membership(session, ninove.id, people["nadmin"], TENANT_ADMIN)
            configure_service(session, ninove.id, "certificate", {"fee_cents": 0, "processing_days": 5})
    portal = register(app, aalst, ["cases:read", "cases:write"], kind="public", grant_types=["authorization_code"],
                      redirect_uris=[REDIRECT]).client_id
    jan = bearer(user_token(app, portal, "jan@example.org", PASSWORD, "cases:read cases:write"))
    case = client.post("/t/aalst/v1/cases", json=PERMIT, headers=jan)
    assert case.status_code == 201, case.get_data(as_text=True)
    return Consortium(aalst, ninove, rule_id, data(case)["id"])


def _branding(app: Flask, tenant: Tenant) -> tuple[str, int]:
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, tenant.id):
        found = branding_of(session, tenant.id)
        return found.primary_colour, found.version


def _form(page: Any) -> dict[str, Any]:
    """The values a browser would send for the branding form as the page shows it."""
    html = page.get_data(as_text=True)
    values: dict[str, Any] = {name: value for name, value in re.findall(r'name="([^"]+)"[^>]*?value="([^"]*)"', html)
                              if not name.startswith("languages")}
    values["languages"] = re.findall(r'name="languages" value="([a-z]{2})" checked', html)
    values["default_language"] = re.search(r'<option value="([a-z]{2})" selected>', html).group(1)  # type: ignore[union-attr]
    return values


def test_the_console_asks_to_sign_in_then_shows_the_municipality_in_the_persons_language(
        app: Flask, consortium: Consortium) -> None:
    anonymous = browser(app)
    asked = anonymous.get("/t/aalst/admin/cases?status=submitted")
    assert asked.status_code == 303 and "/t/aalst/admin/sign-in" in asked.headers["Location"]

    admin = sign_in(app, "aalst", "admin@example.org", PASSWORD)
    home = admin.get("/t/aalst/admin/", headers={"Accept-Language": "fr"})
    html = home.get_data(as_text=True)
    assert home.status_code == 200 and '<html lang="fr">' in html and "Se déconnecter" in html
    assert "Bearer" not in html and "access_token" not in html  # the browser never holds a token
    for language, words in (("nl", "Afmelden"), ("de", "Abmelden"), ("en", "Sign out")):
        chosen = admin.get(f"/t/aalst/admin/?lang={language}")
        assert f'<html lang="{language}">' in chosen.get_data(as_text=True) and words in chosen.get_data(as_text=True)
    remembered = admin.get("/t/aalst/admin/", headers={"Accept-Language": "fr"})
    assert '<html lang="en">' in remembered.get_data(as_text=True)  # the last choice, over the browser's


def test_the_session_cookie_is_host_only_secure_and_http_only(app: Flask, consortium: Consortium) -> None:
    started = browser(app).get("/t/aalst/admin/sign-in")
    cookie = started.headers["Set-Cookie"]
    assert cookie.startswith("__Host-console-aalst=")
    assert all(part in cookie for part in ("Secure", "HttpOnly", "Path=/", "SameSite=Lax")) and "Domain" not in cookie


def test_sign_in_needs_the_state_it_started_with(app: Flask, consortium: Consortium) -> None:
    person = browser(app)
    person.get("/t/aalst/admin/sign-in")
    forged = person.get("/t/aalst/admin/callback?code=abc&state=not-the-one&iss=https%3A%2F%2Ftownhall.test")
    assert forged.status_code == 400
    assert browser(app).get("/t/aalst/admin/callback?code=abc&state=x").status_code == 400


def test_a_form_without_its_csrf_token_changes_nothing(app: Flask, consortium: Consortium) -> None:
    admin = sign_in(app, "aalst", "admin@example.org", PASSWORD)
    before = _branding(app, consortium.aalst)
    values = _form(admin.get("/t/aalst/admin/branding")) | {"primary_colour": "#003366", "action": "save"}
    for sent in ({k: v for k, v in values.items() if k != "csrf"}, values | {"csrf": "guessed"}):
        refused = admin.post("/t/aalst/admin/branding", data=sent)
        assert refused.status_code == 400
        assert _branding(app, consortium.aalst) == before


def test_admins_change_colours_and_a_fee_and_citizens_see_them(
        app: Flask, client: FlaskClient, consortium: Consortium) -> None:
    admin = sign_in(app, "aalst", "admin@example.org", PASSWORD)
    form = _form(admin.get("/t/aalst/admin/branding"))

    unreadable = admin.post("/t/aalst/admin/branding", data=form | {"primary_colour": "#ffff00", "action": "save"})
    assert unreadable.status_code == 422
    assert "contrast" in (field_error(unreadable, "primary_colour") or "")
    preview = admin.post("/t/aalst/admin/branding", data=form | {"primary_colour": "#003366", "action": "preview"})
    assert preview.status_code == 200 and "--preview-primary: #003366" in preview.get_data(as_text=True)
    assert _branding(app, consortium.aalst)[0] != "#003366"  # a preview saves nothing

    saved = admin.post("/t/aalst/admin/branding", data=form | {"primary_colour": "#003366", "action": "save"})
    assert saved.status_code == 303
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, consortium.aalst.id):
        trail = audit_entries(session, consortium.aalst.id, AuditFilter(action="POST /t/<slug:tenant>/admin/"),
                              None, 10)
        assert [(e.action, e.actor.split(":")[0]) for e in trail] == [("POST /t/<slug:tenant>/admin/branding", "user")]
        # the refused colour and the preview above left nothing
    assert data(client.get("/t/aalst/v1/branding"))["colours"]["primary"] == "#003366"
    stale = admin.post("/t/aalst/admin/branding", data=form | {"primary_colour": "#330066", "action": "save"})
    assert stale.status_code == 409 and _branding(app, consortium.aalst)[0] == "#003366"

    entry = admin.get("/t/aalst/admin/services/certificate")
    html = entry.get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', html).group(1)  # type: ignore[union-attr]
    wrong = admin.post("/t/aalst/admin/services/certificate", data={
        "csrf": page_csrf(entry), "version": version, "enabled": "on", "fee": "twelve", "processing_days": "5",
        "channels": ["online"]})
    assert wrong.status_code == 422 and field_error(wrong, "fee_cents")
    changed = admin.post("/t/aalst/admin/services/certificate", data={
        "csrf": page_csrf(entry), "version": version, "enabled": "on", "fee": "7,50", "processing_days": "5",
        "channels": ["online", "counter"], "names.nl": "Attest"})
    assert changed.status_code == 303
    public = data(client.get("/t/aalst/v1/services"))["items"]
    assert [(s["fee"]["amount_cents"], s["channels"]) for s in public if s["code"] == "certificate"] == \
        [(750, ["online", "counter"])]

    history = admin.get("/t/aalst/admin/changes").get_data(as_text=True)
    assert "service:certificate" in history and "branding" in history and "user:" in history


def test_admins_edit_dry_run_and_activate_a_rule_and_the_next_decision_follows_it(
        app: Flask, consortium: Consortium) -> None:
    admin = sign_in(app, "aalst", "admin@example.org", PASSWORD)
    url = f"/t/aalst/admin/rules/{consortium.rule_id}"
    page = admin.get(url)
    assert page.status_code == 200
    broken = admin.post(f"{url}/versions", data={"csrf": page_csrf(page), "expression": "request.kind ==",
                                                  "examples": "[]", "reason": ""})
    assert broken.status_code == 422 and "Not valid CEL" in (field_error(broken, "expression") or "")
    not_json = admin.post(f"{url}/versions", data={"csrf": page_csrf(page), "expression": "1", "examples": "[",
                                                    "reason": ""})
    assert not_json.status_code == 422 and field_error(not_json, "examples")

    added = admin.post(f"{url}/versions", data={
        "csrf": page_csrf(page), "expression": 'request.kind == "life" ? 450 : 0', "reason": "",
        "examples": '[{"input": {"request": {"kind": "life"}}, "expected": 450}]'})
    assert added.status_code == 303
    tried = admin.post(f"{url}/dry-run", data={"csrf": page_csrf(page), "version": "2",
                                               "input": '{"request": {"kind": "life"}}'})
    assert tried.status_code == 200
    assert re.search(r'id="dry-run-result"><strong>450</strong>', tried.get_data(as_text=True))
    shown = admin.get(f"{url}?from=1&to=2").get_data(as_text=True)
    assert "+request.kind == &#34;life&#34; ? 450 : 0" in shown or '+request.kind == "life" ? 450 : 0' in shown

    rule_version = re.search(r'name="rule_version" value="(\d+)"', shown).group(1)  # type: ignore[union-attr]
    activated = admin.post(f"{url}/activation", data={"csrf": page_csrf(page), "version": "2",
                                                      "rule_version": rule_version})
    assert activated.status_code == 303
    assert re.search(r'id="active-version">2<', admin.get(url).get_data(as_text=True))


def test_case_workers_take_and_move_a_case_from_the_queue(app: Flask, consortium: Consortium) -> None:
    worker = sign_in(app, "aalst", "worker@example.org", PASSWORD)
    queue = worker.get("/t/aalst/admin/cases?assignee=none")
    assert consortium.case_id in queue.get_data(as_text=True)
    assert worker.get("/t/aalst/admin/branding").status_code == 403  # not an admin
    page = worker.get(f"/t/aalst/admin/cases/{consortium.case_id}")
    html = page.get_data(as_text=True)
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, consortium.aalst.id):
        reads = audit_entries(session, consortium.aalst.id, AuditFilter(action="GET /t/<slug:tenant>/admin/"), None, 10)
        jan = user_by_email(session, "jan@example.org")
        assert jan is not None
        # the case worker's reads of Jan's case, in the queue and on its page, each named who was read
        assert [(e.action, e.object, e.summary) for e in reads] == [
            ("GET /t/<slug:tenant>/admin/cases", "/t/aalst/admin/cases", {"status": 200, "read": [str(jan.id)]}),
            ("GET /t/<slug:tenant>/admin/cases/<uuid:case_id>", f"/t/aalst/admin/cases/{consortium.case_id}",
             {"status": 200, "read": [str(jan.id)]})]
        assert all(e.actor.startswith("user:") for e in reads)
    version = re.search(r'name="version" value="(\d+)"', html).group(1)  # type: ignore[union-attr]
    taken = worker.post(f"/t/aalst/admin/cases/{consortium.case_id}/assignment",
                        data={"csrf": page_csrf(page), "version": version, "assignee": "me"})
    assert taken.status_code == 303
    assert consortium.case_id in worker.get("/t/aalst/admin/cases?assignee=me").get_data(as_text=True)
    stale = worker.post(f"/t/aalst/admin/cases/{consortium.case_id}/transitions",
                        data={"csrf": page_csrf(page), "version": version, "to": "fee_due"})
    assert stale.status_code == 409
    fresh = worker.get(f"/t/aalst/admin/cases/{consortium.case_id}")
    target = re.search(r'name="to" value="([a-z_]+)"', fresh.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    version = re.search(r'name="version" value="(\d+)"', fresh.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    moved = worker.post(f"/t/aalst/admin/cases/{consortium.case_id}/transitions",
                        data={"csrf": page_csrf(fresh), "version": version, "to": target, "note": "checked"})
    assert moved.status_code == 303
    after = worker.get(f"/t/aalst/admin/cases/{consortium.case_id}").get_data(as_text=True)
    assert f'id="case-status">{target}<' in after and "checked" in after


def _console_routes(app: Flask) -> list[tuple[str, str]]:
    """Every console page and form, with placeholders filled in."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("console.") and rule.endpoint not in (
                "console.sign_in", "console.callback", "console.signed_out"):
            for method in sorted((rule.methods or set()) & {"GET", "POST"}):
                found.append((method, rule.rule))
    return found


def test_every_console_page_and_form_refuses_another_municipalitys_session(
        app: Flask, consortium: Consortium) -> None:
    routes = _console_routes(app)
    assert len(routes) >= 15
    ninove_admin = sign_in(app, "ninove", "nadmin@example.org", PASSWORD)
    ninove_cookie = ninove_admin.get_cookie("__Host-console-ninove")
    assert ninove_cookie is not None
    # Ninove's admin, signed in at Aalst's console (the authorization server lets anyone sign in).
    elsewhere = sign_in(app, "aalst", "nadmin@example.org", PASSWORD)
    before = _branding(app, consortium.aalst)
    values = {"tenant": "aalst", "case_id": consortium.case_id, "rule_id": consortium.rule_id, "code": "certificate",
              "user_id": str(uuid.uuid4()), "role": "case_worker", "client_id": "aalst.abcdefgh12",
              "subscription_id": str(uuid.uuid4()), "office_id": str(uuid.uuid4()), "event_type": "case.created",
              "delegation_id": str(uuid.uuid4())}
    for method, pattern in routes:
        path = re.sub(r"<(?:[a-z_]+(?:\([^)]*\))?:)?([a-z_]+)>", lambda m: values[m.group(1)], pattern)
        # Ninove's session, as Aalst's cookie: no such session in Aalst.
        borrowed = browser(app)
        borrowed.set_cookie("__Host-console-aalst", ninove_cookie.value)
        answer = borrowed.open(path, method=method, data={"csrf": "x", "primary_colour": "#003366"})
        assert answer.status_code == 303 and "/sign-in" in answer.headers["Location"], (method, path)
        # Ninove's admin, signed in to Aalst's console: not Aalst's staff.
        answer = elsewhere.open(path, method=method, data={"csrf": "x"})
        assert answer.status_code == 403, (method, path, answer.status_code)
    assert _branding(app, consortium.aalst) == before


def test_sign_out_ends_the_session_and_revokes_its_grant(app: Flask, consortium: Consortium) -> None:
    admin = sign_in(app, "aalst", "admin@example.org", PASSWORD)
    cookie = admin.get_cookie("__Host-console-aalst")
    assert cookie is not None
    home = admin.get("/t/aalst/admin/")
    out = admin.post("/t/aalst/admin/sign-out", data={"csrf": page_csrf(home)})
    assert out.status_code == 303 and local(out.headers["Location"]) == "/t/aalst/admin/signed-out"
    replayed = browser(app)
    replayed.set_cookie("__Host-console-aalst", cookie.value)
    assert replayed.get("/t/aalst/admin/").status_code == 303
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, consortium.aalst.id):
        assert session.query(WebSession).filter(WebSession.user_id.is_not(None)).count() == 0


def test_a_withdrawn_role_takes_effect_at_the_next_click(app: Flask, consortium: Consortium) -> None:
    admin = sign_in(app, "aalst", "admin@example.org", PASSWORD)
    assert admin.get("/t/aalst/admin/branding").status_code == 200
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, consortium.aalst.id):
        user = user_by_email(session, "admin@example.org")
        assert user is not None
        remove_membership(session, consortium.aalst.id, user, TENANT_ADMIN)
    assert admin.get("/t/aalst/admin/branding").status_code == 403


def test_unknown_things_are_pages_not_crashes(app: Flask, consortium: Consortium) -> None:
    admin = sign_in(app, "aalst", "admin@example.org", PASSWORD)
    assert admin.get(f"/t/aalst/admin/rules/{uuid.uuid4()}").status_code == 404
    assert admin.get(f"/t/aalst/admin/cases/{uuid.uuid4()}").status_code == 404
    assert admin.get("/t/aalst/admin/services/no-such-service").status_code == 404
    assert admin.get("/t/aalst/admin/cases?status=nonsense&service=%C3%A9&after=nonsense&assignee=x").status_code == 200
    assert browser(app).get("/t/nowhere/admin/").status_code == 404


def test_admins_entrust_a_service_to_a_shared_back_office_and_withdraw_it(
        app: Flask, consortium: Consortium) -> None:
    with app.app_context(), database().unit_of_work() as session:
        create_team(session, "dender", "Dender back office")
    admin = sign_in(app, "aalst", "admin@example.org", PASSWORD)
    page = admin.get("/t/aalst/admin/members")
    assert 'name="team"><option value="dender">' in page.get_data(as_text=True)
    wrong = admin.post("/t/aalst/admin/delegations", data={"csrf": page_csrf(page), "team": "dender",
                                                          "service": "unicorns"})
    assert wrong.status_code == 422 and field_error(wrong, "delegation")
    given = admin.post("/t/aalst/admin/delegations", data={"csrf": page_csrf(page), "team": "dender",
                                                          "service": "parking-permit"})
    assert given.status_code == 303
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, consortium.aalst.id):
        [delegation] = delegations_of_tenant(session, consortium.aalst.id)
        assert delegation.created_by.startswith("user:")
    ended = admin.post(f"/t/aalst/admin/delegations/{delegation.id}/withdrawal", data={"csrf": page_csrf(page)})
    assert ended.status_code == 303
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, consortium.aalst.id):
        assert delegations_of_tenant(session, consortium.aalst.id) == []


def test_admins_give_and_take_roles(app: Flask, consortium: Consortium) -> None:
    admin = sign_in(app, "aalst", "admin@example.org", PASSWORD)
    page = admin.get("/t/aalst/admin/members")
    assert page.status_code == 200 and "worker@example.org" in page.get_data(as_text=True)
    unknown = admin.post("/t/aalst/admin/members", data={"csrf": page_csrf(page), "user": "nobody@example.org",
                                                          "role": "case_worker"})
    assert unknown.status_code == 422
    given = admin.post("/t/aalst/admin/members", data={"csrf": page_csrf(page), "user": "jan@example.org",
                                                        "role": "case_worker"})
    assert given.status_code == 303
    assert sign_in(app, "aalst", "jan@example.org", PASSWORD).get("/t/aalst/admin/cases").status_code == 200
    with app.app_context(), database().unit_of_work() as session:
        jan = user_by_email(session, "jan@example.org")
        assert jan is not None
    taken = admin.post(f"/t/aalst/admin/members/{jan.id}/case_worker/removal", data={"csrf": page_csrf(page)})
    assert taken.status_code == 303
    assert "jan@example.org" not in admin.get("/t/aalst/admin/members").get_data(as_text=True)


def test_a_clients_secret_is_shown_once_and_stored_hashed(app: Flask, consortium: Consortium) -> None:
    admin = sign_in(app, "aalst", "admin@example.org", PASSWORD)
    page = admin.get("/t/aalst/admin/clients")
    refused = admin.post("/t/aalst/admin/clients", data={
        "csrf": page_csrf(page), "name": "Portal", "kind": "public", "grant_types": ["authorization_code"],
        "scopes": ["cases:read"]})
    assert refused.status_code == 422 and field_error(refused, "redirect_uris")
    made = admin.post("/t/aalst/admin/clients", data={"csrf": page_csrf(page), "name": "Register sync",
                                                      "kind": "confidential", "grant_types": ["client_credentials"],
                                                      "scopes": ["events:write"]})
    assert made.status_code == 201
    secret = re.search(r'id="client-secret">([^<]+)<', made.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    client_id = re.search(r"<strong>(aalst\.[^<]+)</strong>", made.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    assert secret not in admin.get("/t/aalst/admin/clients").get_data(as_text=True)
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, consortium.aalst.id):
        stored = client_by_id(session, client_id)
        assert stored is not None and stored.secret_hash and secret not in stored.secret_hash
        version = stored.version
    token = app.test_client().post("/oauth/token", data={"grant_type": "client_credentials", "scope": "events:write"},
                                   headers=basic(client_id, secret))
    assert token.status_code == 200
    rotated = admin.post(f"/t/aalst/admin/clients/{client_id}/secret", data={"csrf": page_csrf(page),
                                                                            "version": str(version)})
    assert rotated.status_code == 200 and secret not in rotated.get_data(as_text=True)
    disabled = admin.post(f"/t/aalst/admin/clients/{client_id}/status",
                          data={"csrf": page_csrf(page), "version": str(version), "status": "disabled"})
    assert disabled.status_code == 409  # the rotation changed it: the form is stale


def test_the_consoles_own_client_cannot_be_disabled_over_the_api_either(
        app: Flask, client: FlaskClient, consortium: Consortium) -> None:
    sign_in(app, "aalst", "admin@example.org", PASSWORD)  # registers the console's client
    admin = bearer(token(client, register(app, consortium.aalst, ["clients:manage"])))
    url = "/t/aalst/v1/clients/aalst.townhall-console"
    etag = client.get(url, headers=admin).headers["ETag"]
    refused = client.patch(url, json={"status": "disabled"}, headers=admin | {"If-Match": etag})
    assert assert_problem(refused, 409)["detail"].startswith("The console signs in with this client")
    assert data(client.get(url, headers=admin))["status"] == "active"


def test_webhooks_show_their_secret_once_their_deliveries_and_replay(
        app: Flask, client: FlaskClient, consortium: Consortium, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "TOWNHALL_SETTINGS",
                        replace(app.config["TOWNHALL_SETTINGS"], webhooks_allow_private=True))
    admin = sign_in(app, "aalst", "admin@example.org", PASSWORD)
    page = admin.get("/t/aalst/admin/webhooks")
    wrong = admin.post("/t/aalst/admin/webhooks", data={"csrf": page_csrf(page), "url": "not a url"})
    assert wrong.status_code == 422 and field_error(wrong, "url")
    made = admin.post("/t/aalst/admin/webhooks", data={"csrf": page_csrf(page), "url": "http://127.0.0.1:9/hook",
                                                       "event_types": ["case.created"]})
    assert made.status_code == 201 and re.search(r'id="webhook-secret">[^<]{20,}<', made.get_data(as_text=True))
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, consortium.aalst.id):
        subscription = session.scalars(select(Subscription)).one()
        event = session.scalars(select(OutboxEvent).where(OutboxEvent.type == "case.created")).first()
        assert event is not None
        subscription_id, event_id = subscription.id, event.id
    url = f"/t/aalst/admin/webhooks/{subscription_id}"
    replayed = admin.post(f"{url}/replay", data={"csrf": page_csrf(page), "event": str(event_id)})
    assert replayed.status_code == 200 and "case.created" in replayed.get_data(as_text=True)
    assert "pending" in admin.get(url).get_data(as_text=True)  # the delivery log shows the new delivery


def _stadhuis(app: Flask, tenant: Tenant) -> uuid.UUID:
    """Aalst's town hall, open on Monday mornings for identity cards."""
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, tenant.id):
        values = load(OfficeInput, {"name": "Stadhuis", "address": "Grote Markt 3, Aalst", "lat": 50.93, "long": 4.04,
                                    "hours": {"mon": [["09:00", "12:00"]]},
                                    "services": [{"service": "eid-card", "duration_minutes": 15}]})
        return save_office(session, tenant.id, "Europe/Brussels", values, {}).id


def test_admins_change_opening_hours_and_closures_and_the_public_offices_show_them(
        app: Flask, client: FlaskClient, consortium: Consortium) -> None:
    office_id = _stadhuis(app, consortium.aalst)
    admin = sign_in(app, "aalst", "admin@example.org", PASSWORD)
    assert "09:00-12:00" in admin.get("/t/aalst/admin/offices").get_data(as_text=True)
    page = admin.get(f"/t/aalst/admin/offices/{office_id}")
    version = re.search(r'name="version" value="(\d+)"', page.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    form = {"csrf": page_csrf(page), "version": version, "hours.mon": "08:30-12:00, 13:00-16:00",
            "hours.tue": "09:00-12:00", "exceptions": "2026-12-25 closed\n2026-12-24 09:00-11:00"}
    wrong = admin.post(f"/t/aalst/admin/offices/{office_id}", data=form | {"hours.wed": "nine to five"})
    assert wrong.status_code == 422 and field_error(wrong, "hours-wed")
    saved = admin.post(f"/t/aalst/admin/offices/{office_id}", data=form)
    assert saved.status_code == 303, saved.get_data(as_text=True)
    shown = next(o for o in data(client.get("/t/aalst/v1/offices"))["items"] if o["id"] == str(office_id))
    assert shown["hours"] == {"mon": [["08:30", "12:00"], ["13:00", "16:00"]], "tue": [["09:00", "12:00"]]}
    assert shown["exceptions"] == {"2026-12-25": [], "2026-12-24": [["09:00", "11:00"]]}
    assert [s["service"] for s in shown["services"]] == ["eid-card"]  # what the form does not show is kept
    assert admin.post(f"/t/aalst/admin/offices/{office_id}", data=form).status_code == 409  # the version moved on


def test_admins_choose_an_office_s_services_and_the_neighbours_it_serves(
        app: Flask, client: FlaskClient, consortium: Consortium) -> None:
    office_id = _stadhuis(app, consortium.aalst)
    admin = sign_in(app, "aalst", "admin@example.org", PASSWORD)
    page = admin.get(f"/t/aalst/admin/offices/{office_id}")
    html = page.get_data(as_text=True)
    assert 'name="eid-card.serves" value="ninove"' in html
    assert re.search(r"<title>[^<]*Stadhuis[^<]*</title>", html)  # the title is text, nothing else
    version = re.search(r'name="version" value="(\d+)"', html).group(1)  # type: ignore[union-attr]
    form = {"csrf": page_csrf(page), "version": version,
            "eid-card.offered": "on", "eid-card.duration_minutes": "20", "eid-card.counters": "2",
            "eid-card.lead_minutes": "60", "eid-card.horizon_days": "90", "eid-card.serves": ["ninove"],
            "travel-document.offered": "on", "travel-document.duration_minutes": "30", "travel-document.counters": "1",
            "travel-document.lead_minutes": "0", "travel-document.horizon_days": "30"}
    wrong = admin.post(f"/t/aalst/admin/offices/{office_id}/services",
                       data=form | {"travel-document.counters": "many"})
    assert wrong.status_code == 422 and field_error(wrong, "travel-document-counters")
    saved = admin.post(f"/t/aalst/admin/offices/{office_id}/services", data=form)
    assert saved.status_code == 303, saved.get_data(as_text=True)
    shown = next(o for o in data(client.get("/t/aalst/v1/offices"))["items"] if o["id"] == str(office_id))
    assert [(s["service"], s["duration_minutes"], s["counters"], s["serves"]) for s in shown["services"]] == \
        [("eid-card", 20, 2, ["ninove"]), ("travel-document", 30, 1, [])]
    assert shown["hours"] == {"mon": [["09:00", "12:00"]]}  # the hours are kept
    assert admin.post(f"/t/aalst/admin/offices/{office_id}/services", data=form).status_code == 409


def _operator(app: Flask) -> None:
    with app.app_context(), database().unit_of_work() as session:
        operator = _person(session, "operator")
        operator.is_platform_operator = True


def _consortium_sign_in(app: Flask, email: str) -> FlaskClient:
    person = browser(app)
    start = person.get("/console/sign-in")
    assert start.status_code == 303
    authorize = local(start.headers["Location"])
    login = person.get(authorize)
    signed = person.post(authorize, data={"action": "login", "csrf": page_csrf(login), "email": email,
                                          "password": PASSWORD})
    back = person.get(local(signed.headers["Location"]))
    assert "/console/callback" in back.headers["Location"], back.get_data(as_text=True)
    assert person.get(local(back.headers["Location"])).status_code == 303
    return person


def test_operators_see_every_municipalitys_health_create_and_suspend_them(
        app: Flask, client: FlaskClient, consortium: Consortium) -> None:
    _operator(app)
    assert browser(app).get("/console/").status_code == 303  # signed out: to the sign-in
    admin = _consortium_sign_in(app, "admin@example.org")
    assert admin.get("/console/").status_code == 403  # a municipality's admin is no platform operator

    operator = _consortium_sign_in(app, "operator@example.org")
    home = operator.get("/console/")
    html = home.get_data(as_text=True)
    assert home.status_code == 200 and "aalst" in html and "ninove" in html
    row = re.search(r"aalst · 41002.*?</tr>", html, re.S).group(0)  # type: ignore[union-attr]
    assert re.findall(r"<td>(\d+)</td>", row)[:1] == ["1"]  # Aalst's one open case

    bad = operator.post("/console/municipalities", data={"csrf": page_csrf(home), "slug": "erpe-mere",
                                                         "nis_code": "41x", "names.nl": "Erpe-Mere",
                                                         "languages": ["nl"], "default_language": "nl"})
    assert bad.status_code == 422 and field_error(bad, "nis_code")
    made = operator.post("/console/municipalities", data={"csrf": page_csrf(home), "slug": "erpe-mere",
                                                          "nis_code": "41082", "names.nl": "Erpe-Mere",
                                                          "languages": ["nl"], "default_language": "nl",
                                                          "plan": "small"})
    assert made.status_code == 303
    assert client.get("/t/erpe-mere/v1/branding").status_code == 200
    assert _plan(app, "erpe-mere") == "small" and _plan(app, "aalst") == "standard"
    unknown_plan = operator.post("/console/municipalities/aalst/plan", data={"csrf": page_csrf(home), "plan": "gold"})
    assert unknown_plan.status_code == 422 and _plan(app, "aalst") == "standard"
    larger = operator.post("/console/municipalities/aalst/plan", data={"csrf": page_csrf(home), "plan": "large"})
    assert larger.status_code == 303 and _plan(app, "aalst") == "large"
    assert 'id="plan-aalst" name="plan"><option value="small">' in operator.get("/console/").get_data(as_text=True)

    no_token = operator.post("/console/municipalities/ninove/status", data={"status": "suspended"})
    assert no_token.status_code == 400 and client.get("/t/ninove/v1/branding").status_code == 200
    suspended = operator.post("/console/municipalities/ninove/status",
                              data={"csrf": page_csrf(home), "status": "suspended"})
    assert suspended.status_code == 303
    assert client.get("/t/ninove/v1/branding").status_code == 403
    out = operator.post("/console/sign-out", data={"csrf": page_csrf(home)})
    assert out.status_code == 303 and operator.get("/console/").status_code == 303


def test_changes_of_members_clients_webhooks_and_offices_are_in_the_history(
        app: Flask, consortium: Consortium, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "TOWNHALL_SETTINGS",
                        replace(app.config["TOWNHALL_SETTINGS"], webhooks_allow_private=True))
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, consortium.aalst.id):
        values = load(OfficeInput, {"name": "Stadhuis", "address": "Grote Markt 3, Aalst", "lat": 50.93, "long": 4.04,
                                    "hours": {"mon": [["09:00", "12:00"]]},
                                    "services": [{"service": "eid-card", "duration_minutes": 15}]})
        office_id = save_office(session, consortium.aalst.id, "Europe/Brussels", values, {}, actor="test").id
        admin_id = user_by_email(session, "admin@example.org").id  # type: ignore[union-attr]
    admin = sign_in(app, "aalst", "admin@example.org", PASSWORD)
    csrf = page_csrf(admin.get("/t/aalst/admin/"))
    assert admin.post("/t/aalst/admin/members", data={"csrf": csrf, "user": "jan@example.org",
                                                      "role": "case_worker"}).status_code == 303
    made = admin.post("/t/aalst/admin/clients", data={
        "csrf": csrf, "name": "Sync", "kind": "confidential", "grant_types": ["client_credentials"],
        "scopes": ["events:write"]})
    secret = re.search(r'id="client-secret">([^<]+)<', made.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    hooked = admin.post("/t/aalst/admin/webhooks", data={"csrf": csrf, "url": "http://127.0.0.1:9/hook"})
    assert hooked.status_code == 201
    page = admin.get(f"/t/aalst/admin/offices/{office_id}")
    version = re.search(r'name="version" value="(\d+)"', page.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    assert admin.post(f"/t/aalst/admin/offices/{office_id}", data={
        "csrf": csrf, "version": version, "hours.mon": "08:00-12:00", "exceptions": ""}).status_code == 303

    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, consortium.aalst.id):
        entries = {(c.subject, c.actor): c.changes for c in history(session, consortium.aalst.id, limit=50)}
    me = f"user:{admin_id}"
    assert entries[("members", me)] == {"jan@example.org": {"from": [], "to": ["case_worker"]}}
    assert any(field.endswith(".scopes") and change["to"] == ["events:write"]
               for field, change in entries[("clients", me)].items())
    assert [change["to"] for field, change in entries[("webhooks", me)].items() if field.endswith(".url")] == \
        ["http://127.0.0.1:9/hook"]
    assert entries[("offices", me)] == {f"{office_id}.hours": {"from": {"mon": [["09:00", "12:00"]]},
                                                               "to": {"mon": [["08:00", "12:00"]]}}}
    assert ("offices", "test") in entries
    assert secret not in json.dumps(list(entries.values())) and "secret" not in json.dumps(entries[("clients", me)])
    shown = admin.get("/t/aalst/admin/changes").get_data(as_text=True)
    assert f"{office_id}.hours" in shown and "jan@example.org" in shown


def test_admins_write_the_e_mails_in_their_own_words_with_the_placeholders_checked(
        app: Flask, client: FlaskClient, consortium: Consortium) -> None:
    admin = sign_in(app, "aalst", "admin@example.org", PASSWORD)
    listing = admin.get("/t/aalst/admin/emails")
    assert listing.status_code == 200 and "case.status-changed" in listing.get_data(as_text=True)
    page = admin.get("/t/aalst/admin/emails/case.created")
    form = {"csrf": page_csrf(page), "version": "0", "nl.subject": "Ontvangen: {reference}",
            "nl.body": "Beste {naam}, we hebben {reference}."}
    wrong = admin.post("/t/aalst/admin/emails/case.created", data=form)
    assert wrong.status_code == 422 and "{naam}" in (field_error(wrong, "texts-nl-body") or "")
    saved = admin.post("/t/aalst/admin/emails/case.created", data=form | {"nl.body": "We hebben {reference}."})
    assert saved.status_code == 303
    token_headers = bearer(token(client, register(app, consortium.aalst, ["config:write"])))
    shown = data(client.get("/t/aalst/v1/admin/email-templates/case.created", headers=token_headers))
    assert shown["customised"] == ["nl"] and shown["texts"]["nl"]["subject"] == "Ontvangen: {reference}"
    assert shown["texts"]["fr"]["subject"] == "Votre demande {reference} est reçue"  # left as it was
    stale = admin.post("/t/aalst/admin/emails/case.created", data=form | {"nl.body": "Oud {reference}."})
    assert stale.status_code == 409
    reset = admin.post("/t/aalst/admin/emails/case.created", data={"csrf": page_csrf(page), "version": "1",
                                                                   "nl.reset": "on"})
    assert reset.status_code == 303
    assert data(client.get("/t/aalst/v1/admin/email-templates/case.created", headers=token_headers))[
        "customised"] == []


def _plan(app: Flask, slug: str) -> str:
    with app.app_context(), database().unit_of_work() as session:
        return require_tenant(session, slug).plan


def test_operators_form_a_shared_back_office_and_municipalities_delegate_to_it(
        app: Flask, client: FlaskClient, consortium: Consortium) -> None:
    _operator(app)
    operator = _consortium_sign_in(app, "operator@example.org")
    home = operator.get("/console/teams")
    assert home.status_code == 200
    bad = operator.post("/console/teams", data={"csrf": page_csrf(home), "slug": "Dender Team!", "name": "Dender"})
    assert bad.status_code == 422 and field_error(bad, "slug")
    made = operator.post("/console/teams", data={"csrf": page_csrf(home), "slug": "dender",
                                                 "name": "Dender back office"})
    assert made.status_code == 303
    nobody = operator.post("/console/teams/dender/members", data={"csrf": page_csrf(home), "email": "x@example.org"})
    assert nobody.status_code == 422 and field_error(nobody, "dender-email")
    joined = operator.post("/console/teams/dender/members", data={"csrf": page_csrf(home),
                                                                  "email": "worker@example.org"})
    assert joined.status_code == 303
    given = operator.post("/console/teams/dender/delegations", data={"csrf": page_csrf(home), "tenant": "aalst",
                                                                     "service": "parking-permit"})
    assert given.status_code == 303
    twice = operator.post("/console/teams/dender/delegations", data={"csrf": page_csrf(home), "tenant": "aalst",
                                                                     "service": "parking-permit"})
    assert twice.status_code == 422
    listing = operator.get("/console/teams").get_data(as_text=True)
    assert "worker@example.org" in listing and "Withdraw" not in listing.split("dender")[0]
    assert re.search(r"<td>Aalst</td>\s*<td>Residents&#39; parking permit</td>", listing)  # delegated
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, consortium.aalst.id):
        [delegation] = delegations_of_tenant(session, consortium.aalst.id)
        recorded = [entry.changes for entry in history(session, consortium.aalst.id, subject="delegations")]
    assert recorded == [{"dender.parking-permit": {"from": None, "to": "delegated"}}]
    ended = operator.post(f"/console/delegations/aalst/{delegation.id}/withdraw", data={"csrf": page_csrf(home)})
    assert ended.status_code == 303
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, consortium.aalst.id):
        assert delegations_of_tenant(session, consortium.aalst.id) == []
    admin = _consortium_sign_in(app, "admin@example.org")
    assert admin.post("/console/teams", data={"csrf": "x", "slug": "other", "name": "Other"}).status_code == 403
