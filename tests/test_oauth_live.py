"""Independent OAuth client libraries against a live server on loopback, and the logs of the flow."""

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from flask import Flask
from joserfc import jwt
from joserfc.jwk import KeySet
from oauthlib.oauth2 import BackendApplicationClient, InvalidClientError
from requests_oauthlib import OAuth2Session
from werkzeug.serving import make_server

from api.database import database
from tenants.operations import create_tenant
from townhall.auth.keys import ensure_signing_key
from townhall.auth.operations import create_client
from townhall.tenancy import tenant_scope

pytestmark = pytest.mark.committed


@dataclass(frozen=True)
class Live:
    url: str
    client_id: str
    secret: str


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
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    assert secret is not None
    yield Live(f"http://127.0.0.1:{server.port}", client_id, secret)
    server.shutdown()
    thread.join(timeout=10)


def test_requests_oauthlib_client_credentials(live: Live) -> None:
    session = OAuth2Session(client=BackendApplicationClient(client_id=live.client_id))
    token = session.fetch_token(token_url=f"{live.url}/oauth/token", client_id=live.client_id,
                                client_secret=live.secret, timeout=10)
    assert token["token_type"] == "Bearer" and token["expires_in"] <= 600
    response = session.get(f"{live.url}/t/aalst/v1/clients", timeout=10)
    assert response.status_code == 200 and response.json()["items"][0]["client_id"] == live.client_id

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
