"""Client credentials: RFC 9068 access tokens for exactly one municipality, checked by the tenant APIs."""

import time
from collections.abc import Callable
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from api.database import database
from api.settings import Settings
from support.contract import assert_oauth_error, assert_problem
from support.oauth import Registered, basic, bearer, data, register, token, token_response
from tenants.models import Tenant
from townhall.auth.models import ClientStatus
from townhall.auth.operations import set_client_status
from townhall.auth.queries import client_by_id
from townhall.tenancy import tenant_scope

pytestmark = pytest.mark.usefixtures("signing_key")
ADMIN_SCOPES = ["clients:manage", "catalog:read"]


@pytest.fixture
def aalst(make_tenant: Callable[..., Tenant]) -> Tenant:
    return make_tenant("aalst", "41002")


@pytest.fixture
def partner(app: Flask, aalst: Tenant) -> Registered:
    return register(app, aalst, ADMIN_SCOPES)


def test_the_token_is_an_rfc_9068_jwt_for_one_municipality(client: FlaskClient, partner: Registered) -> None:
    response = token_response(client, partner, scope="clients:manage")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = data(response)
    assert body["token_type"] == "Bearer" and body["expires_in"] <= 600 and "refresh_token" not in body

    # Verified independently of server code: the published key set and joserfc.
    keys = KeySet.import_key_set(data(client.get("/.well-known/jwks.json")))
    decoded = jwt.decode(body["access_token"], keys)
    assert decoded.header["typ"] == "at+jwt" and decoded.header["alg"] == "ES256" and decoded.header["kid"]
    claims = decoded.claims
    assert claims["iss"] == "https://townhall.test"
    assert claims["aud"] == "https://townhall.test/t/aalst"
    assert claims["tenant"] == "aalst" and claims["principal_type"] == "client"
    assert claims["client_id"] == claims["sub"] == partner.client_id
    assert claims["scope"] == "clients:manage"
    assert 0 < claims["exp"] - claims["iat"] <= 600 and claims["jti"]


def test_no_scope_asked_gives_the_clients_scopes(client: FlaskClient, partner: Registered) -> None:
    assert data(token_response(client, partner))["scope"] == "clients:manage catalog:read"


def test_a_scope_the_client_may_not_have_is_invalid_scope_never_a_smaller_token(
    client: FlaskClient, partner: Registered
) -> None:
    response = token_response(client, partner, scope="clients:manage cases:write")
    assert response.status_code == 400 and data(response)["error"] == "invalid_scope"


def test_the_resource_must_be_the_clients_own_municipality(
    client: FlaskClient, partner: Registered, make_tenant: Callable[..., Tenant]
) -> None:
    make_tenant("ninove", "41048")
    own = token_response(client, partner, resource="https://townhall.test/t/aalst")
    assert own.status_code == 200
    other = token_response(client, partner, resource="https://townhall.test/t/ninove")
    assert other.status_code == 400 and data(other)["error"] == "invalid_target"
    both = client.post("/oauth/token", headers=basic(partner.client_id, partner.secret),
                       data={"grant_type": "client_credentials",
                             "resource": ["https://townhall.test/t/aalst", "https://townhall.test/t/ninove"]})
    assert both.status_code == 400 and data(both)["error"] == "invalid_target"


@pytest.mark.parametrize("secret", ["wrong", "", None])
def test_a_wrong_secret_is_invalid_client(client: FlaskClient, partner: Registered, secret: str | None) -> None:
    response = token_response(client, Registered(partner.tenant, partner.client_id, secret))
    assert response.status_code in (400, 401) and data(response)["error"] == "invalid_client"


@pytest.mark.parametrize("client_id", ["ninove.abcdefghijkl", "aalst.doesnotexist", "nodot", "x" * 300, "é.é"])
def test_unknown_clients_are_invalid_client(client: FlaskClient, partner: Registered, client_id: str) -> None:
    response = token_response(client, Registered("aalst", client_id, partner.secret))
    assert response.status_code == 401 and data(response)["error"] == "invalid_client"


def test_a_disabled_client_gets_no_token(app: Flask, client: FlaskClient, partner: Registered, aalst: Tenant) -> None:
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, aalst.id):
        found = client_by_id(session, partner.client_id)
        assert found is not None
        set_client_status(session, found, ClientStatus.DISABLED)
    assert data(token_response(client, partner))["error"] == "invalid_client"


@pytest.mark.parametrize("grant", ["password", "implicit", "urn:ietf:params:oauth:grant-type:device_code"])
def test_no_password_or_implicit_grant(client: FlaskClient, partner: Registered, grant: str) -> None:
    response = client.post("/oauth/token", data={"grant_type": grant, "username": "x", "password": "y"},
                           headers=basic(partner.client_id, partner.secret))
    assert response.status_code == 400 and data(response)["error"] == "unsupported_grant_type"


def test_the_token_opens_its_municipalitys_api(client: FlaskClient, partner: Registered) -> None:
    response = client.get("/t/aalst/v1/clients", headers=bearer(token(client, partner)))
    assert response.status_code == 200
    assert [c["client_id"] for c in data(response)["items"]] == [partner.client_id]
    assert response.headers["Cache-Control"] == "no-store"


def test_a_token_for_one_municipality_is_refused_at_another(
    app: Flask, client: FlaskClient, partner: Registered, make_tenant: Callable[..., Tenant]
) -> None:
    ninove = make_tenant("ninove", "41048")
    register(app, ninove, ADMIN_SCOPES)
    response = client.get("/t/ninove/v1/clients", headers=bearer(token(client, partner)))
    body = assert_problem(response, 401)
    assert body["code"] == "invalid_token"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="townhall", error="invalid_token"'


def test_no_token_is_401_with_a_challenge(client: FlaskClient, partner: Registered) -> None:
    response = client.get("/t/aalst/v1/clients")
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer realm=")


def test_a_missing_scope_is_403_insufficient_scope(app: Flask, client: FlaskClient, aalst: Tenant) -> None:
    reader = register(app, aalst, ["catalog:read"])
    response = client.get("/t/aalst/v1/clients", headers=bearer(token(client, reader)))
    assert assert_problem(response, 403)["code"] == "insufficient_scope"
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


def test_a_token_in_the_query_string_is_refused(client: FlaskClient, partner: Registered) -> None:
    response = client.get(f"/t/aalst/v1/clients?access_token={token(client, partner)}")
    assert assert_problem(response, 400)["code"] == "token_not_in_header"


def test_a_token_in_a_form_encoded_body_is_refused(client: FlaskClient, partner: Registered) -> None:
    response = client.post("/t/aalst/v1/clients", data={"access_token": token(client, partner)})
    assert assert_problem(response, 400)["code"] == "token_not_in_header"


def forged(app: Flask, header: dict[str, str], **claims: object) -> str:
    """A token signed with the platform's real key, with a header and claims of our choosing."""
    keyring = app.extensions["townhall.keyring"]
    with app.app_context():
        key: ECKey = keyring.signing_key(database().sessions())
    now = int(time.time())
    body = {"iss": "https://townhall.test", "aud": "https://townhall.test/t/aalst", "tenant": "aalst",
            "sub": "aalst.client", "client_id": "aalst.client", "scope": "clients:manage",
            "iat": now, "exp": now + 300, "jti": "forged"} | claims
    return jwt.encode({"alg": "ES256", "kid": key.kid} | header, body, key)


@pytest.mark.parametrize(("header", "claims"), [
    ({"typ": "JWT"}, {}),
    ({}, {}),
    ({"typ": "at+jwt"}, {"exp": int(time.time()) - 60, "iat": int(time.time()) - 700}),
    ({"typ": "at+jwt"}, {"nbf": int(time.time()) + 600}),
    ({"typ": "at+jwt"}, {"iss": "https://elsewhere.example"}),
    ({"typ": "at+jwt"}, {"aud": "https://townhall.test/t/ninove"}),
    ({"typ": "at+jwt"}, {"tenant": "ninove"}),
], ids=["typ-JWT", "no-typ", "expired", "not-yet-valid", "foreign-issuer", "other-audience", "other-tenant-claim"])
def test_tokens_that_are_not_ours_for_here_and_now_are_refused(
    app: Flask, client: FlaskClient, aalst: Tenant, header: dict[str, str], claims: dict[str, object]
) -> None:
    response = client.get("/t/aalst/v1/clients", headers=bearer(forged(app, header, **claims)))
    assert assert_problem(response, 401)["code"] == "invalid_token"


def test_a_token_signed_with_another_key_is_refused(client: FlaskClient, aalst: Tenant) -> None:
    stranger = ECKey.generate_key("P-256", parameters={"kid": "stranger"}, private=True)
    now = int(time.time())
    value = jwt.encode({"alg": "ES256", "typ": "at+jwt", "kid": "stranger"},
                       {"iss": "https://townhall.test", "aud": "https://townhall.test/t/aalst", "tenant": "aalst",
                        "sub": "x", "client_id": "x", "scope": "clients:manage", "iat": now, "exp": now + 60,
                        "jti": "x"}, stranger)
    assert_problem(client.get("/t/aalst/v1/clients", headers=bearer(value)), 401)
    assert_problem(client.get("/t/aalst/v1/clients", headers=bearer("not.a.jwt")), 401)


def test_metadata_describes_the_server(client: FlaskClient) -> None:
    metadata = data(client.get("/.well-known/oauth-authorization-server"))
    assert metadata["issuer"] == "https://townhall.test"
    assert metadata["token_endpoint"] == "https://townhall.test/oauth/token"
    assert "password" not in metadata["grant_types_supported"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert all("d" not in key for key in data(client.get("/.well-known/jwks.json"))["keys"])


def test_failed_token_requests_are_limited_per_client_and_address(
    app: Flask, settings: Settings, make_app: Callable[[Settings], Flask], partner: Registered
) -> None:
    limited = make_app(replace(settings, token_failure_limit="2 per minute"))
    client = limited.test_client()
    with limited.app_context():
        limited.extensions["townhall.limiter"].reset()
    # The limited app has its own engine: the partner created in this test's transaction is not
    # visible to it, so these are failed attempts.
    answers = [token_response(client, partner) for _ in range(3)]
    assert [a.status_code for a in answers[:2]] == [401, 401]
    assert_oauth_error(answers[2], 429, "slow_down")
    assert int(answers[2].headers["Retry-After"]) > 0
    assert answers[1].headers["X-RateLimit-Remaining"] == "0"  # the limited views tell their limits
    other = Registered("aalst", "aalst.someoneelse1", "x")
    assert token_response(client, other).status_code == 401  # another client is not held back


def test_me_tells_the_caller_what_its_token_may_do(client: FlaskClient, partner: Registered) -> None:
    me = data(client.get("/t/aalst/v1/me", headers=bearer(token(client, partner, scope="catalog:read"))))
    assert me["tenant"] == "aalst" and me["principal_type"] == "client"
    assert me["client_id"] == me["sub"] == partner.client_id and me["scopes"] == ["catalog:read"]
    assert_problem(client.get("/t/aalst/v1/me"), 401)


def test_a_token_remembered_as_verified_still_meets_every_other_check(
    app: Flask, client: FlaskClient, partner: Registered, make_tenant: Callable[..., Tenant],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(app.extensions["townhall.verified_tokens"], "ttl", 60)  # the suite runs with caches off
    access = token(client, partner, scope="catalog:read")
    assert client.get("/t/aalst/v1/me", headers=bearer(access)).status_code == 200  # checked, then remembered
    assert app.extensions["townhall.verified_tokens"].get(access) is not None

    make_tenant("ninove", "41048")
    assert_problem(client.get("/t/ninove/v1/me", headers=bearer(access)), 401)  # another municipality's API
    assert_problem(client.get("/t/aalst/v1/clients", headers=bearer(access)), 403)  # a scope it lacks
    header, payload, signature = access.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"
    assert_problem(client.get("/t/aalst/v1/me", headers=bearer(forged)), 401)  # only the exact token is known

    revoked = client.post("/oauth/revoke", data={"token": access}, headers=basic(partner.client_id, partner.secret))
    assert revoked.status_code == 200
    assert_problem(client.get("/t/aalst/v1/me", headers=bearer(access)), 401)
