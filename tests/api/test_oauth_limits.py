"""Limits on the OAuth endpoints and on sign-in: failures slow down one pair (client or account, and
address) and cost the holder elsewhere nothing; the counts are shared by every process of a machine
(Redis between machines, required in production); every error of the token, revocation and
introspection endpoints is an RFC 6749 error, which real OAuth clients read as one."""

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from flask import Flask
from flask.testing import FlaskClient
from oauthlib.oauth2 import BackendApplicationClient, OAuth2Error
from requests_oauthlib import OAuth2Session
from werkzeug.serving import make_server

from api.app import create_app
from api.database import database
from api.limits import SQLiteStorage, storage_uri
from api.settings import Settings, SettingsError
from support.contract import assert_oauth_error, assert_problem
from support.oauth import REDIRECT, Registered, authorize_url, basic, csrf_of, data, pkce_pair, token_response
from support.suite import ROOT, ContractClient, empty_all_tables
from tenants.operations import create_tenant
from townhall.auth.keys import ensure_signing_key
from townhall.auth.operations import create_client, create_user
from townhall.tenancy import tenant_scope

PASSWORD = "correct horse battery"
ADDRESS_A, ADDRESS_B = "192.0.2.10", "198.51.100.20"


@dataclass(frozen=True)
class Limited:
    app: Flask
    partner: Registered
    portal_id: str
    email: str


@pytest.fixture
def limited(settings: Settings) -> Iterator[Limited]:
    """An app allowing 3 failures per pair, whose data is committed (its own engine sees it)."""
    application = create_app(replace(settings, token_failure_limit="3 per minute", login_failure_limit="3 per minute"))
    application.test_client_class = ContractClient
    with application.app_context():
        application.extensions["townhall.limiter"].reset()
        with database().unit_of_work() as session:
            tenant = create_tenant(session, {"slug": "aalst", "nis_code": "41002", "default_language": "nl",
                                             "languages": ["nl"], "names": {"nl": "Aalst"}}, "test")
            ensure_signing_key(session, settings.access_token_lifetime)
            with tenant_scope(session, tenant.id):
                partner, secret = create_client(session, tenant.id, tenant.slug, {
                    "name": "Partner", "kind": "confidential", "grant_types": ["client_credentials"],
                    "scopes": ["catalog:read"]})
                portal, _ = create_client(session, tenant.id, tenant.slug, {
                    "name": "Portal", "kind": "public", "grant_types": ["authorization_code"],
                    "redirect_uris": [REDIRECT], "scopes": ["cases:read"]})
                create_user(session, {"email": "an@aalst.example", "display_name": "An", "password": PASSWORD})
            registered = Registered("aalst", partner.client_id, secret)
            portal_id = portal.client_id
    yield Limited(application, registered, portal_id, "an@aalst.example")
    application.extensions["townhall.database"].engine.dispose()
    empty_all_tables(settings)


def from_address(app: Flask, address: str) -> FlaskClient:
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = address
    return browser


def wrong(registered: Registered) -> Registered:
    return replace(registered, secret="not-the-secret")


@pytest.mark.committed
def test_a_flood_of_wrong_secrets_slows_down_that_address_only(limited: Limited) -> None:
    a, b = from_address(limited.app, ADDRESS_A), from_address(limited.app, ADDRESS_B)
    flood = [token_response(a, wrong(limited.partner), scope="catalog:read") for _ in range(5)]
    assert [answer.status_code for answer in flood[:3]] == [401, 401, 401]
    for answer in flood[3:]:
        assert_oauth_error(answer, 429, "slow_down")
        assert 0 < int(answer.headers["Retry-After"]) <= 60

    # The holder, from another address, is let through, as often as it likes (successes are free).
    for _ in range(5):
        assert "access_token" in data(token_response(b, limited.partner, scope="catalog:read"))
    # From the flooded address, even the right secret waits: answering it would answer guesses too.
    assert_oauth_error(token_response(a, limited.partner, scope="catalog:read"), 429, "slow_down")
    # Revocation and introspection check the same secret and share the count.
    held = a.post("/oauth/introspect", data={"token": "x"}, headers=basic(limited.partner.client_id, "nope"))
    assert_oauth_error(held, 429, "slow_down")
    # Another client from that address is not held back.
    other = replace(limited.partner, client_id="aalst.someoneelse1")
    assert_oauth_error(token_response(a, other), 401, "invalid_client")


def sign_in(browser: FlaskClient, url: str, email: str, password: str) -> int:
    page = browser.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)
    answer = browser.post(url, data={"action": "login", "csrf": csrf_of(page.get_data(as_text=True)),
                                     "email": email, "password": password})
    return answer.status_code


@pytest.mark.committed
def test_a_flood_of_wrong_passwords_slows_down_that_address_only(limited: Limited) -> None:
    _, challenge = pkce_pair()
    url = authorize_url(limited.portal_id, challenge)
    a = from_address(limited.app, ADDRESS_A)
    flood = [sign_in(a, url, limited.email, "guess") for _ in range(5)]
    assert flood == [401, 401, 401, 429, 429]
    # Written differently, the same account is the same count.
    assert sign_in(a, url, " AN@aalst.example", "guess") == 429
    assert sign_in(a, url, limited.email, PASSWORD) == 429  # the right password waits there too
    assert sign_in(from_address(limited.app, ADDRESS_B), url, limited.email, PASSWORD) == 303
    assert sign_in(a, url, "someone@aalst.example", "guess") == 401  # another account is not held back


def test_the_processes_of_one_machine_share_the_counts(
    settings: Settings, tmp_path: Path,
) -> None:
    """Two apps, and a separate process, with one instance folder and no Redis count together."""
    shared = replace(settings, instance_path=tmp_path, token_failure_limit="3 per minute")
    first, second = create_app(shared), create_app(shared)
    someone = Registered("aalst", "aalst.sharedcount1", "wrong")
    try:
        assert token_response(first.test_client(), someone).status_code == 401
        assert token_response(second.test_client(), someone).status_code == 401
        env = {**os.environ, "TOWNHALL_INSTANCE_PATH": str(tmp_path), "TOWNHALL_DATABASE_URL": settings.database_url,
               "TOWNHALL_BASE_URL": settings.base_url, "TOWNHALL_TOKEN_FAILURE_LIMIT": "3 per minute"}
        script = ("from api.app import create_app; from api.settings import Settings; "
                  "import base64; c = create_app(Settings.from_env()).test_client(); "
                  "r = c.post('/oauth/token', data={'grant_type': 'client_credentials'}, headers={'Authorization': "
                  "'Basic ' + base64.b64encode(b'aalst.sharedcount1:wrong').decode()}); print(r.status_code)")
        other = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                               timeout=120, check=False)
        assert other.returncode == 0, other.stderr
        assert other.stdout.split()[-1] == "401"
        assert_oauth_error(token_response(first.test_client(), someone), 429, "slow_down")
        assert_oauth_error(token_response(second.test_client(), someone), 429, "slow_down")
    finally:
        for app in (first, second):
            app.extensions["townhall.database"].engine.dispose()


def test_the_shared_storage_keeps_a_moving_window(tmp_path: Path) -> None:
    storage = SQLiteStorage(storage_uri(Settings(instance_path=tmp_path / "with space")))
    assert storage.check()
    assert [storage.acquire_entry("k", 2, 1) for _ in range(3)] == [True, True, False]
    started, count = storage.get_moving_window("k", 2, 1)
    assert count == 2 and started > 0
    assert storage.acquire_entry("other", 2, 1) and not storage.acquire_entry("k", 2, 1, amount=1)
    assert (storage.incr("c", 60), storage.incr("c", 60, amount=2), storage.get("c")) == (1, 3, 3)
    assert storage.get_expiry("c") > storage.get_moving_window("k", 2, 1)[0]
    storage.clear("k")
    assert storage.get_moving_window("k", 2, 1)[1] == 0
    assert storage.reset() == 2  # the entry of "other" and the counter "c"
    assert (storage.get("c"), storage.get_moving_window("other", 2, 1)[1]) == (0, 0)


def test_production_without_redis_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="TOWNHALL_REDIS_URL: required when TOWNHALL_ENV=production"):
        Settings.from_env({"TOWNHALL_INSTANCE_PATH": str(tmp_path), "TOWNHALL_ENV": "production"})
    env = {"PATH": "/usr/bin:/bin", "TOWNHALL_INSTANCE_PATH": str(tmp_path), "TOWNHALL_ENV": "production"}
    started = subprocess.run([sys.executable, "-c", "from api.cli import main; main()", "tenants", "list"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert started.returncode == 2
    assert "TOWNHALL_REDIS_URL: required when TOWNHALL_ENV=production" in started.stderr
    assert "Traceback" not in started.stderr
    assert Settings.from_env({"TOWNHALL_INSTANCE_PATH": str(tmp_path)}).environment == "development"


def test_unknown_environments_and_replaced_limit_settings_are_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"TOWNHALL_INSTANCE_PATH": str(tmp_path), "TOWNHALL_ENV": "staging",
                           "TOWNHALL_TOKEN_RATE_LIMIT_PER_CLIENT": "60 per minute",
                           "TOWNHALL_LOGIN_RATE_LIMIT_PER_CLIENT": "120 per minute"})
    message = str(caught.value)
    assert "TOWNHALL_ENV: one of development, production" in message
    assert "TOWNHALL_TOKEN_RATE_LIMIT_PER_CLIENT: replaced by TOWNHALL_TOKEN_FAILURE_LIMIT" in message
    assert "TOWNHALL_LOGIN_RATE_LIMIT_PER_CLIENT: replaced by TOWNHALL_LOGIN_FAILURE_LIMIT" in message


@pytest.fixture
def live(limited: Limited, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # plain http on loopback, tests only
    server = make_server("127.0.0.1", 0, limited.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    thread.join(timeout=10)


def held_back(url: str, registered: Registered) -> None:
    """Wrong secrets until the endpoint answers 429."""
    for _ in range(3):
        answer = requests.post(f"{url}/oauth/token", data={"grant_type": "client_credentials"},
                               auth=(registered.client_id, "not-the-secret"), timeout=10)
        assert answer.status_code == 401
    answer = requests.post(f"{url}/oauth/token", data={"grant_type": "client_credentials"},
                           auth=(registered.client_id, "not-the-secret"), timeout=10)
    assert answer.status_code == 429 and answer.headers["Content-Type"] == "application/json"
    assert int(answer.headers["Retry-After"]) > 0 and answer.json()["error"] == "slow_down"


@pytest.mark.committed
def test_requests_oauthlib_reads_a_429_as_an_oauth_error(limited: Limited, live: str) -> None:
    held_back(live, limited.partner)
    session = OAuth2Session(client=BackendApplicationClient(client_id=limited.partner.client_id))
    with pytest.raises(OAuth2Error) as caught:
        session.fetch_token(token_url=f"{live}/oauth/token", client_id=limited.partner.client_id,
                            client_secret=limited.partner.secret, timeout=10)
    assert caught.value.error == "slow_down"
    assert not session.token


@pytest.mark.committed
def test_authlib_reads_a_429_as_an_oauth_error(limited: Limited, live: str) -> None:
    held_back(live, limited.partner)
    session = AuthlibSession(limited.partner.client_id, limited.partner.secret, scope="catalog:read")
    with pytest.raises(OAuthError) as caught:
        session.fetch_token(f"{live}/oauth/token", grant_type="client_credentials", timeout=10)
    assert caught.value.error == "slow_down"
    assert not session.token


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
def test_every_error_of_the_oauth_endpoints_is_an_rfc_6749_error(client: FlaskClient, path: str) -> None:
    wrong_method = client.get(path)
    assert_oauth_error(wrong_method, 405, "invalid_request")
    assert set(wrong_method.headers["Allow"].split(", ")) == {"OPTIONS", "POST"}
    too_large = client.post(path, data="a=" + "x" * 6_000_000, content_type="application/x-www-form-urlencoded")
    assert_oauth_error(too_large, 413, "invalid_request")
    assert_oauth_error(client.post(path + "?pad=" + "x" * 8200, data={"token": "x"}), 414, "invalid_request")
    assert_oauth_error(client.post(path, data={"token": "x"}, headers={"X-Pad": "x" * 9000}), 431, "invalid_request")
    assert_oauth_error(client.post(path + "?a=1&a=2", data={"token": "x"}), 400, "invalid_request")
    unknown = client.post(path, data={"token": "x", "grant_type": "client_credentials"}, headers=basic("nobody", "x"))
    assert_oauth_error(unknown, 401, "invalid_client")
    # Elsewhere, errors stay problems.
    assert_problem(client.get("/oauth/tokens"), 404)
