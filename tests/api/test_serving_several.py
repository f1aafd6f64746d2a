"""Staff who serve several municipalities use one platform app and choose the municipality of each
token with `resource` (RFC 8707); where they hold no role or delegation, they get `invalid_target`."""

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet

from api.database import database
from support.oauth import (
    REDIRECT,
    authorize_url,
    code_from,
    csrf_of,
    data,
    pkce_pair,
    sign_in_and_consent,
    user_token,
)
from tenants.models import Tenant
from townhall.auth.operations import add_team_member, create_platform_client, create_team, create_user, delegate
from townhall.tenancy import tenant_scope

pytestmark = pytest.mark.usefixtures("signing_key")
PASSWORD = "correct horse battery"
WORKER = "worker@backoffice.example"
BASE = "https://townhall.test"


@pytest.fixture
def app_id(app: Flask, make_tenant: Callable[..., Tenant]) -> str:
    aalst, ninove = make_tenant("aalst", "41002"), make_tenant("ninove", "41048")
    make_tenant("haaltert", "41024")
    with app.app_context(), database().unit_of_work() as session:
        worker = create_user(session, {"email": WORKER, "display_name": "Worker", "password": PASSWORD})
        team = create_team(session, "dender", "Dender back office")
        add_team_member(session, team, worker)
        for tenant, service in ((aalst, "eid-card"), (ninove, "*")):
            with tenant_scope(session, tenant.id):
                delegate(session, tenant.id, team, service, "test")
        client, _ = create_platform_client(session, {
            "name": "Back-office app", "kind": "public", "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": [REDIRECT], "scopes": ["cases:read", "cases:write"]})
        return client.client_id


def tokens_for(app: Flask, client_id: str, slug: str) -> dict[str, str]:
    resource = f"{BASE}/t/{slug}"
    verifier, challenge = pkce_pair()
    browser = app.test_client()
    _, query = code_from(sign_in_and_consent(
        browser, authorize_url(client_id, challenge, "cases:write", resource=resource), WORKER, PASSWORD))
    response = browser.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": REDIRECT,
        "client_id": client_id, "code_verifier": verifier, "resource": resource})
    tokens: dict[str, str] = data(response)
    return tokens


def audience(client: FlaskClient, access_token: str) -> tuple[str, str, list[str]]:
    claims = jwt.decode(access_token, KeySet.import_key_set(data(client.get("/.well-known/jwks.json")))).claims
    return claims["aud"], claims["tenant"], claims.get("services", [])


def test_one_app_a_token_per_municipality(app: Flask, client: FlaskClient, app_id: str) -> None:
    aalst = tokens_for(app, app_id, "aalst")
    ninove = tokens_for(app, app_id, "ninove")
    assert audience(client, aalst["access_token"]) == (f"{BASE}/t/aalst", "aalst", ["eid-card"])
    assert audience(client, ninove["access_token"]) == (f"{BASE}/t/ninove", "ninove", ["*"])

    renewed = data(client.post("/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": aalst["refresh_token"], "client_id": app_id,
        "resource": f"{BASE}/t/aalst"}))
    assert audience(client, renewed["access_token"])[1] == "aalst"
    without = data(client.post("/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": renewed["refresh_token"], "client_id": app_id}))
    assert without["error"] == "invalid_grant"  # the municipality must be named again


def test_a_municipality_the_worker_does_not_serve_is_invalid_target(app: Flask, app_id: str) -> None:
    _, challenge = pkce_pair()
    url = authorize_url(app_id, challenge, "cases:write", resource=f"{BASE}/t/haaltert")
    browser = app.test_client()
    response = sign_in_and_consent_until_redirect(browser, url)
    assert response.status_code == 302 and "error=invalid_target" in response.headers["Location"]


def test_without_resource_the_app_gets_a_token_for_the_platform_api_to_read(app: Flask, app_id: str) -> None:
    keys = KeySet.import_key_set(data(app.test_client().get("/.well-known/jwks.json")))
    claims = jwt.decode(user_token(app, app_id, WORKER, PASSWORD, "cases:read"), keys).claims
    assert claims["aud"] == f"{BASE}/v1" and "tenant" not in claims and claims["scope"] == "cases:read"
    _, challenge = pkce_pair()
    response = sign_in_and_consent_until_redirect(app.test_client(), authorize_url(app_id, challenge, "cases:write"))
    assert response.status_code == 302 and "error=invalid_scope" in response.headers["Location"]


def sign_in_and_consent_until_redirect(browser: FlaskClient, url: str):  # type: ignore[no-untyped-def]

    login = browser.get(url)
    browser.post(url, data={"action": "login", "csrf": csrf_of(login.get_data(as_text=True)),
                            "email": WORKER, "password": PASSWORD})
    return browser.get(url)
