"""The authorization code grant with PKCE, refresh rotation, revocation, and RFC 9700's checks."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet

from api.database import database
from api.settings import Settings
from support.contract import assert_problem
from support.oauth import (
    REDIRECT,
    Registered,
    authorize_url,
    basic,
    bearer,
    code_from,
    csrf_of,
    data,
    pkce_pair,
    register,
    sign_in_and_consent,
)
from tenants.models import Tenant
from townhall.auth.operations import add_membership, create_user
from townhall.auth.scopes import TENANT_ADMIN
from townhall.tenancy import tenant_scope

pytestmark = pytest.mark.usefixtures("signing_key")
PASSWORD = "correct horse battery"
PORTAL: dict[str, Any] = {
    "name": "Admin portal", "kind": "public", "grant_types": ["authorization_code", "refresh_token"],
    "redirect_uris": [REDIRECT], "scopes": ["clients:manage", "cases:read"],
}


@dataclass(frozen=True)
class World:
    tenant: Tenant
    portal: Registered
    partner: Registered
    admin: str
    citizen: str


@pytest.fixture
def world(app: Flask, make_tenant: Callable[..., Tenant]) -> World:
    tenant = make_tenant("aalst", "41002")
    with app.app_context(), database().unit_of_work() as session:
        admin = create_user(session, {"email": "admin@aalst.example", "display_name": "Admin", "password": PASSWORD})
        create_user(session, {"email": "jan@example.org", "display_name": "Jan", "password": PASSWORD})
        with tenant_scope(session, tenant.id):
            add_membership(session, tenant.id, admin, TENANT_ADMIN)
    portal = register(app, tenant, PORTAL["scopes"], **{k: v for k, v in PORTAL.items() if k != "scopes"})
    return World(tenant, portal, register(app, tenant, ["catalog:read"]),
                 "admin@aalst.example", "jan@example.org")


def exchange(client: FlaskClient, world: World, code: str, verifier: str | None) -> object:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": world.portal.client_id}
    if verifier is not None:
        form["code_verifier"] = verifier
    return client.post("/oauth/token", data=form)


def refresh(client: FlaskClient, world: World, token: str) -> object:
    return client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": token,
                                             "client_id": world.portal.client_id})


def signed_in_tokens(app: Flask, world: World, email: str, scope: str) -> dict[str, object]:
    verifier, challenge = pkce_pair()
    browser = app.test_client()
    _, query = code_from(sign_in_and_consent(browser, authorize_url(world.portal.client_id, challenge, scope),
                                             email, PASSWORD))
    response = exchange(browser, world, query["code"][0], verifier)
    assert response.status_code == 200, response.get_data(as_text=True)  # type: ignore[attr-defined]
    tokens: dict[str, object] = data(response)
    tokens["code"] = query["code"][0]
    tokens["verifier"] = verifier
    return tokens


def test_a_person_signs_in_consents_and_the_front_end_gets_tokens(
    app: Flask, client: FlaskClient, world: World
) -> None:
    verifier, challenge = pkce_pair()
    browser = app.test_client()
    target, query = code_from(sign_in_and_consent(
        browser, authorize_url(world.portal.client_id, challenge, "clients:manage", state="s-123"),
        world.admin, PASSWORD))
    assert target == REDIRECT and query["state"] == ["s-123"]
    tokens = data(exchange(client, world, query["code"][0], verifier))
    assert tokens["refresh_token"] and tokens["scope"] == "clients:manage"

    keys = KeySet.import_key_set(data(client.get("/.well-known/jwks.json")))
    claims = jwt.decode(tokens["access_token"], keys).claims
    assert claims["principal_type"] == "user" and claims["roles"] == ["tenant_admin"]
    assert claims["aud"] == "https://townhall.test/t/aalst" and claims["client_id"] == world.portal.client_id
    assert client.get("/t/aalst/v1/clients", headers=bearer(tokens["access_token"])).status_code == 200


def test_the_pages_speak_the_persons_language_under_the_municipalitys_name(
    app: Flask, world: World
) -> None:
    _, challenge = pkce_pair()
    page = app.test_client().get(authorize_url(world.portal.client_id, challenge, ui_locales="fr"))
    html = page.get_data(as_text=True)
    assert '<html lang="fr">' in html and "Se connecter" in html and "Aalst" in html
    dutch = app.test_client().get(authorize_url(world.portal.client_id, challenge),
                                  headers={"Accept-Language": "nl-BE"}).get_data(as_text=True)
    assert "Aanmelden" in dutch


def test_the_page_cannot_be_framed_and_has_no_cors(app: Flask, world: World) -> None:
    _, challenge = pkce_pair()
    page = app.test_client().get(authorize_url(world.portal.client_id, challenge),
                                 headers={"Origin": "https://evil.example"})
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "Access-Control-Allow-Origin" not in page.headers


def test_a_wrong_password_signs_nobody_in(app: Flask, world: World) -> None:
    _, challenge = pkce_pair()
    browser = app.test_client()
    url = authorize_url(world.portal.client_id, challenge)
    page = browser.get(url).get_data(as_text=True)
    wrong = browser.post(url, data={"action": "login", "csrf": csrf_of(page), "email": world.admin,
                                    "password": "not the password"})
    assert wrong.status_code == 401 and "passen niet bij elkaar" in wrong.get_data(as_text=True)
    assert 'value="login"' in browser.get(url).get_data(as_text=True)  # still not signed in


def test_forms_without_the_csrf_token_are_refused(app: Flask, world: World) -> None:
    _, challenge = pkce_pair()
    browser = app.test_client()
    url = authorize_url(world.portal.client_id, challenge)
    browser.get(url)
    response = browser.post(url, data={"action": "login", "email": world.admin, "password": PASSWORD})
    assert response.status_code == 400


@pytest.mark.parametrize("redirect_uri", [
    REDIRECT + "/", REDIRECT + "?x=1", "http://127.0.0.1:8766/callback", "https://evil.example/callback",
    "http://127.0.0.1:8765/CALLBACK",
])
def test_redirect_uris_must_match_exactly_and_mismatches_never_redirect(
    app: Flask, world: World, redirect_uri: str
) -> None:
    _, challenge = pkce_pair()
    response = app.test_client().get(authorize_url(world.portal.client_id, challenge, redirect_uri=redirect_uri))
    assert response.status_code == 400 and "Location" not in response.headers


@pytest.mark.parametrize("client_id", ["aalst.unknown12345", "ninove.whatever1234", "garbage"])
def test_unknown_clients_get_a_page_not_a_redirect(app: Flask, world: World, client_id: str) -> None:
    _, challenge = pkce_pair()
    response = app.test_client().get(authorize_url(client_id, challenge))
    assert response.status_code == 400 and "Location" not in response.headers


@pytest.mark.parametrize(("challenge", "method"), [(None, "S256"), ("abc" * 15, "plain"), ("abc" * 15, "")])
def test_pkce_s256_is_required_for_every_client(app: Flask, world: World, challenge: str | None, method: str) -> None:
    response = app.test_client().get(authorize_url(world.portal.client_id, challenge, method=method))
    assert response.status_code == 302
    assert "error=invalid_request" in response.headers["Location"]
    assert response.headers["Location"].startswith(REDIRECT)


def test_the_code_verifier_is_checked(app: Flask, client: FlaskClient, world: World) -> None:
    _, challenge = pkce_pair()
    _, query = code_from(sign_in_and_consent(app.test_client(), authorize_url(world.portal.client_id, challenge),
                                             world.citizen, PASSWORD))
    missing = exchange(client, world, query["code"][0], None)
    assert missing.status_code == 400  # type: ignore[attr-defined]
    wrong = exchange(client, world, query["code"][0], pkce_pair()[0])
    assert data(wrong)["error"] in ("invalid_grant", "invalid_request")


def test_a_code_works_once_and_its_replay_revokes_what_it_issued(
    app: Flask, client: FlaskClient, world: World
) -> None:
    tokens = signed_in_tokens(app, world, world.admin, "clients:manage")
    replay = exchange(client, world, str(tokens["code"]), str(tokens["verifier"]))
    assert data(replay)["error"] == "invalid_grant"
    assert_problem(client.get("/t/aalst/v1/clients", headers=bearer(str(tokens["access_token"]))), 401)
    assert data(refresh(client, world, str(tokens["refresh_token"])))["error"] == "invalid_grant"


def test_refresh_tokens_rotate_and_a_reused_one_revokes_the_family(
    app: Flask, client: FlaskClient, world: World
) -> None:
    tokens = signed_in_tokens(app, world, world.admin, "clients:manage")
    first = str(tokens["refresh_token"])
    rotated = data(refresh(client, world, first))
    assert rotated["refresh_token"] != first
    assert client.get("/t/aalst/v1/clients", headers=bearer(rotated["access_token"])).status_code == 200

    assert data(refresh(client, world, first))["error"] == "invalid_grant"  # the old one, again: theft
    assert data(refresh(client, world, rotated["refresh_token"]))["error"] == "invalid_grant"
    assert_problem(client.get("/t/aalst/v1/clients", headers=bearer(rotated["access_token"])), 401)


def test_a_narrower_scope_on_refresh_is_fine_a_wider_one_is_not(app: Flask, client: FlaskClient, world: World) -> None:
    tokens = signed_in_tokens(app, world, world.admin, "clients:manage")
    wider = client.post("/oauth/token", data={"grant_type": "refresh_token", "client_id": world.portal.client_id,
                                              "refresh_token": tokens["refresh_token"],
                                              "scope": "clients:manage cases:read"})
    assert data(wider)["error"] == "invalid_scope"


def test_a_person_cannot_grant_what_they_may_not_do(app: Flask, world: World) -> None:
    _, challenge = pkce_pair()
    browser = app.test_client()
    url = authorize_url(world.portal.client_id, challenge, "clients:manage")
    login = browser.get(url).get_data(as_text=True)
    browser.post(url, data={"action": "login", "csrf": csrf_of(login), "email": world.citizen, "password": PASSWORD})
    response = browser.get(url)  # a citizen asks a token that manages clients
    assert response.status_code == 302 and "error=invalid_scope" in response.headers["Location"]


def test_denying_consent_tells_the_client(app: Flask, world: World) -> None:
    _, challenge = pkce_pair()
    _, query = code_from(sign_in_and_consent(app.test_client(), authorize_url(world.portal.client_id, challenge),
                                             world.citizen, PASSWORD, decision="deny"))
    assert query["error"] == ["access_denied"] and "code" not in query


def test_revoking_an_access_token_stops_it_and_introspection_says_so(
    app: Flask, client: FlaskClient, world: World
) -> None:
    partner = register(app, world.tenant, ["catalog:read"])
    tokens = signed_in_tokens(app, world, world.admin, "clients:manage")
    access = str(tokens["access_token"])
    as_partner = basic(partner.client_id, partner.secret)
    seen = data(client.post("/oauth/introspect", data={"token": access}, headers=as_partner))
    assert seen["active"] is True and seen["client_id"] == world.portal.client_id

    revoked = client.post("/oauth/revoke", data={"token": access, "client_id": world.portal.client_id})
    assert revoked.status_code == 200
    assert_problem(client.get("/t/aalst/v1/clients", headers=bearer(access)), 401)
    after = data(client.post("/oauth/introspect", data={"token": access}, headers=as_partner))
    assert after == {"active": False}


def test_introspection_needs_a_confidential_client(app: Flask, client: FlaskClient, world: World) -> None:
    tokens = signed_in_tokens(app, world, world.citizen, "cases:read")
    anonymous = client.post("/oauth/introspect", data={"token": tokens["access_token"]})
    assert anonymous.status_code == 401
    public = client.post("/oauth/introspect", data={"token": tokens["access_token"],
                                                     "client_id": world.portal.client_id})
    assert public.status_code == 401


def test_sign_in_attempts_are_limited(settings: Settings, make_app: Callable[[Settings], Flask], world: World) -> None:
    limited = make_app(replace(settings, login_rate_limit="2 per minute"))
    with limited.app_context():
        limited.extensions["townhall.limiter"].reset()  # counts live in the instance folder, beyond this app
    browser = limited.test_client()
    _, challenge = pkce_pair()
    url = authorize_url(world.portal.client_id, challenge)
    answers = [browser.post(url, data={"action": "login"}) for _ in range(3)]
    assert answers[2].status_code == 429


def test_unprintable_input_is_a_bad_request_not_a_crash(app: Flask, client: FlaskClient, world: World) -> None:
    _, challenge = pkce_pair()
    weird = authorize_url(world.portal.client_id, challenge, redirect_uri="\u00b5s\u00dc\u0011")
    assert app.test_client().get(weird).status_code == 400
    garbage = {"grant_type": "\u00b5\u0011\u00dc", "client_id": world.portal.client_id}
    response = client.post("/oauth/token", data=garbage)
    assert response.status_code in (400, 401) and data(response)["error"]
