"""Independent OAuth client libraries against a live server on loopback, and the logs of the flow."""

import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from flask import Flask
from joserfc import jwt
from joserfc.jwk import KeySet
from oauthlib.oauth2 import BackendApplicationClient, InvalidClientError, OAuth2Error
from requests_oauthlib import OAuth2Session
from werkzeug.serving import make_server

from api.database import database
from support.oauth import REDIRECT, csrf_of
from tenants.operations import create_tenant
from townhall.auth.keys import ensure_signing_key
from townhall.auth.operations import add_membership, create_client, create_user
from townhall.auth.scopes import TENANT_ADMIN
from townhall.tenancy import tenant_scope

pytestmark = pytest.mark.committed


@dataclass(frozen=True)
class Live:
    url: str
    client_id: str
    secret: str
    portal_id: str


ADMIN, PASSWORD = "admin@aalst.example", "correct horse battery"


@pytest.fixture
def live(live_app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # plain http on loopback, tests only
    with live_app.app_context(), database().unit_of_work() as session:
        tenant = create_tenant(session, {"slug": "aalst", "nis_code": "41002", "default_language": "nl",
                                         "languages": ["nl"], "names": {"nl": "Aalst"}}, "test")
        ensure_signing_key(session, live_app.config["TOWNHALL_SETTINGS"].access_token_lifetime)
        with tenant_scope(session, tenant.id):
            client, secret = create_client(session, tenant.id, tenant.slug, {
                "name": "Partner", "kind": "confidential", "grant_types": ["client_credentials"],
                "scopes": ["clients:manage", "catalog:read"]})
            client_id = client.client_id
            portal, _ = create_client(session, tenant.id, tenant.slug, {
                "name": "Portal", "kind": "public", "grant_types": ["authorization_code", "refresh_token"],
                "redirect_uris": [REDIRECT], "scopes": ["clients:manage"]})
            portal_id = portal.client_id
            admin = create_user(session, {"email": ADMIN, "display_name": "Admin", "password": PASSWORD})
            add_membership(session, tenant.id, admin, TENANT_ADMIN)
    live_app.config["SESSION_COOKIE_SECURE"] = False  # the test server speaks plain http on loopback
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    assert secret is not None
    yield Live(f"http://127.0.0.1:{server.port}", client_id, secret, portal_id)
    server.shutdown()
    thread.join(timeout=10)


def test_requests_oauthlib_client_credentials(live: Live) -> None:
    session = OAuth2Session(client=BackendApplicationClient(client_id=live.client_id))
    token = session.fetch_token(token_url=f"{live.url}/oauth/token", client_id=live.client_id,
                                client_secret=live.secret, timeout=10)
    assert token["token_type"] == "Bearer" and token["expires_in"] <= 600
    response = session.get(f"{live.url}/t/aalst/v1/clients", timeout=10)
    assert response.status_code == 200
    assert live.client_id in [c["client_id"] for c in response.json()["items"]]

    wrong = OAuth2Session(client=BackendApplicationClient(client_id=live.client_id))
    with pytest.raises(InvalidClientError):
        wrong.fetch_token(token_url=f"{live.url}/oauth/token", client_id=live.client_id,
                          client_secret="not-the-secret", timeout=10)


def test_authlib_client_credentials_and_jwks_verification(live: Live) -> None:
    with AuthlibSession(live.client_id, live.secret, scope="catalog:read",
                        token_endpoint_auth_method="client_secret_post") as session:
        token = session.fetch_token(f"{live.url}/oauth/token", grant_type="client_credentials", timeout=10)
        assert token["scope"] == "catalog:read"
        # catalog:read does not allow managing clients: 403 with the challenge.
        refused = session.get(f"{live.url}/t/aalst/v1/clients", timeout=10)
        assert refused.status_code == 403
        assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]
    metadata = requests.get(f"{live.url}/.well-known/oauth-authorization-server", timeout=10).json()
    keys = KeySet.import_key_set(requests.get(f"{live.url}/.well-known/jwks.json", timeout=10).json())
    claims = jwt.decode(token["access_token"], keys).claims
    assert claims["iss"] == metadata["issuer"] and claims["tenant"] == "aalst"


def test_secrets_and_tokens_never_reach_the_logs(live: Live, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    session = OAuth2Session(client=BackendApplicationClient(client_id=live.client_id))
    token = session.fetch_token(token_url=f"{live.url}/oauth/token", client_id=live.client_id,
                                client_secret=live.secret, timeout=10)
    session.get(f"{live.url}/t/aalst/v1/clients", timeout=10)
    requests.get(f"{live.url}/t/aalst/v1/clients?access_token={token['access_token']}", timeout=10)
    logs = capsys.readouterr().err
    assert '"route": "/oauth/token"' in logs  # the flow was logged
    for secret in (live.secret, token["access_token"], token["access_token"].split(".")[2]):
        assert secret not in logs


def play_the_person(live: Live, url: str, decision: str = "allow") -> str:
    """A browser: sign in through the real form and decide; returns where the server sends it back."""
    browser = requests.Session()
    page = browser.get(url, timeout=10)
    assert page.status_code == 200, page.text
    signed_in = browser.post(url, data={"action": "login", "csrf": csrf_of(page.text), "email": ADMIN,
                                        "password": PASSWORD}, allow_redirects=False, timeout=10)
    assert signed_in.status_code == 303, signed_in.text
    consent = browser.get(live.url + signed_in.headers["Location"], timeout=10)
    decided = browser.post(url, data={"action": "consent", "decision": decision, "csrf": csrf_of(consent.text)},
                           allow_redirects=False, timeout=10)
    assert decided.status_code == 303, decided.text
    location: str = decided.headers["Location"]
    assert location.startswith(REDIRECT)
    return location


def test_requests_oauthlib_code_flow_with_pkce_and_refresh(live: Live) -> None:
    session = OAuth2Session(live.portal_id, redirect_uri=REDIRECT, scope=["clients:manage"], pkce="S256")
    url, state = session.authorization_url(f"{live.url}/oauth/authorize")
    callback = play_the_person(live, url)
    token = session.fetch_token(f"{live.url}/oauth/token", authorization_response=callback,
                                include_client_id=True, timeout=10)
    assert token["refresh_token"] and state in callback
    assert session.get(f"{live.url}/t/aalst/v1/clients", timeout=10).status_code == 200

    renewed = session.refresh_token(f"{live.url}/oauth/token", client_id=live.portal_id, timeout=10)
    assert renewed["refresh_token"] != token["refresh_token"]
    assert session.get(f"{live.url}/t/aalst/v1/clients", timeout=10).status_code == 200


def test_authlib_code_flow_then_revoke(live: Live) -> None:
    verifier = secrets.token_urlsafe(48)
    with AuthlibSession(live.portal_id, redirect_uri=REDIRECT, scope="clients:manage",
                        code_challenge_method="S256") as session:
        url, _ = session.create_authorization_url(f"{live.url}/oauth/authorize", code_verifier=verifier)
        callback = play_the_person(live, url)
        token = session.fetch_token(f"{live.url}/oauth/token", authorization_response=callback,
                                    code_verifier=verifier, timeout=10)
        api = f"{live.url}/t/aalst/v1/clients"
        assert session.get(api, timeout=10).status_code == 200

        revoked = session.revoke_token(f"{live.url}/oauth/revoke", token=token["access_token"],
                                       token_type_hint="access_token", timeout=10)
        assert revoked.status_code == 200
        refused = session.get(api, timeout=10)
        assert refused.status_code == 401 and 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    introspected = requests.post(f"{live.url}/oauth/introspect", data={"token": token["access_token"]},
                                 auth=(live.client_id, live.secret), timeout=10)
    assert introspected.json() == {"active": False}


def test_a_whole_code_flow_leaves_no_password_code_or_token_in_the_logs(
    live: Live, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    session = OAuth2Session(live.portal_id, redirect_uri=REDIRECT, scope=["clients:manage"], pkce="S256")
    url, _ = session.authorization_url(f"{live.url}/oauth/authorize")
    callback = play_the_person(live, url)
    token = session.fetch_token(f"{live.url}/oauth/token", authorization_response=callback,
                                include_client_id=True, timeout=10)
    session.refresh_token(f"{live.url}/oauth/token", client_id=live.portal_id, timeout=10)
    logs = capsys.readouterr().err
    assert '"route": "/oauth/authorize"' in logs
    code = callback.split("code=")[1].split("&")[0]
    for secret in (PASSWORD, ADMIN, code, token["access_token"], token["refresh_token"]):
        assert secret not in logs


def test_authlib_client_checks_the_issuer_of_the_authorization_response(live: Live) -> None:
    """RFC 9207 as a client applies it: the metadata promises `iss`, and the response must carry
    exactly the issuer the client meant to talk to (mix-up defence), on success and on denial."""
    metadata = requests.get(f"{live.url}/.well-known/oauth-authorization-server", timeout=10).json()
    assert metadata["authorization_response_iss_parameter_supported"] is True
    verifier = secrets.token_urlsafe(48)
    with AuthlibSession(live.portal_id, redirect_uri=REDIRECT, scope="clients:manage",
                        code_challenge_method="S256") as session:
        url, state = session.create_authorization_url(metadata["authorization_endpoint"].replace(
            metadata["issuer"], live.url), code_verifier=verifier)
        callback = play_the_person(live, url)
        assert parse_qs(urlsplit(callback).query)["iss"] == [metadata["issuer"]]
        token = session.fetch_token(f"{live.url}/oauth/token", authorization_response=callback, state=state,
                                    code_verifier=verifier, timeout=10)
        assert session.get(f"{live.url}/t/aalst/v1/clients", timeout=10).status_code == 200 and token["access_token"]

        url, _ = session.create_authorization_url(f"{live.url}/oauth/authorize", code_verifier=verifier)
        denied = play_the_person(live, url, decision="deny")
        denial = parse_qs(urlsplit(denied).query)
        assert denial["error"] == ["access_denied"] and denial["iss"] == [metadata["issuer"]]


def test_requests_oauthlib_is_told_that_response_mode_fragment_is_refused(live: Live) -> None:
    metadata = requests.get(f"{live.url}/.well-known/oauth-authorization-server", timeout=10).json()
    assert "fragment" not in metadata["response_modes_supported"]
    session = OAuth2Session(live.portal_id, redirect_uri=REDIRECT, scope=["clients:manage"], pkce="S256")
    url, _ = session.authorization_url(f"{live.url}/oauth/authorize", response_mode="fragment")
    answer = requests.get(url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and answer.headers["Location"].startswith(REDIRECT)
    assert "#" not in answer.headers["Location"]  # never a code in a fragment the client did not get
    with pytest.raises(OAuth2Error) as refused:  # oauthlib reads the error from the redirect
        session.fetch_token(f"{live.url}/oauth/token", authorization_response=answer.headers["Location"],
                            include_client_id=True, timeout=10)
    assert refused.value.error == "invalid_request" and "response_mode" in str(refused.value.description)
    assert parse_qs(urlsplit(answer.headers["Location"]).query)["iss"] == [metadata["issuer"]]
