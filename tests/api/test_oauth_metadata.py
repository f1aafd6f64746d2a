"""RFC 8414 metadata says only what the server does, and every authorization response names the
issuer (RFC 9207); a response mode the server does not offer is refused, not ignored."""

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.database import database
from api.oauth.endpoints import Introspection, Revocation
from api.oauth.grant_types import AuthorizationCodeGrant, ClientCredentials, RefreshTokenGrant
from support.oauth import (
    REDIRECT,
    Registered,
    authorize_url,
    code_from,
    data,
    pkce_pair,
    register,
    sign_in_and_consent,
)
from tenants.models import Tenant
from townhall.auth.operations import add_membership, create_user
from townhall.auth.schemas import ClientInput, PlatformClientInput
from townhall.auth.scopes import CITIZEN_SCOPES, PERSON_PLATFORM_SCOPES, PLATFORM_SCOPES, ROLE_SCOPES, TENANT_ADMIN
from townhall.localisation import LANGUAGES
from townhall.tenancy import tenant_scope

pytestmark = pytest.mark.usefixtures("signing_key")
ISSUER = "https://townhall.test"
PASSWORD = "correct horse battery"
ADMIN = "admin@aalst.example"


def metadata(client: FlaskClient) -> dict[str, Any]:
    document: dict[str, Any] = data(client.get("/.well-known/oauth-authorization-server"))
    return document


def _choices(schema: type, field: str) -> set[str]:
    validator = schema().fields[field].inner.validate
    return set(validator.choices)


def test_the_metadata_claims_no_jwt_client_authentication(client: FlaskClient) -> None:
    document = metadata(client)
    assert not [key for key in document if "signing_alg" in key or "encryption" in key]
    used = {*ClientCredentials.TOKEN_ENDPOINT_AUTH_METHODS, *AuthorizationCodeGrant.TOKEN_ENDPOINT_AUTH_METHODS,
            *RefreshTokenGrant.TOKEN_ENDPOINT_AUTH_METHODS}
    assert set(document["token_endpoint_auth_methods_supported"]) == used
    assert set(document["revocation_endpoint_auth_methods_supported"]) == set(Revocation.CLIENT_AUTH_METHODS)
    assert set(document["introspection_endpoint_auth_methods_supported"]) == set(Introspection.CLIENT_AUTH_METHODS)
    assert "private_key_jwt" not in used and "client_secret_jwt" not in used


def test_scopes_supported_lists_every_scope_a_token_may_carry(client: FlaskClient) -> None:
    supported = set(metadata(client)["scopes_supported"])
    assert "platform:manage" in supported
    grantable = (_choices(ClientInput, "scopes") | _choices(PlatformClientInput, "scopes") | CITIZEN_SCOPES
                 | PERSON_PLATFORM_SCOPES | set(PLATFORM_SCOPES) | set().union(*ROLE_SCOPES.values()))
    assert supported == grantable


def test_the_metadata_tells_the_response_mode_and_the_issuer_parameter(client: FlaskClient) -> None:
    document = metadata(client)
    assert document["issuer"] == ISSUER
    assert document["response_types_supported"] == ["code"]
    assert document["response_modes_supported"] == ["query"]
    assert document["authorization_response_iss_parameter_supported"] is True
    assert set(document["ui_locales_supported"]) <= set(LANGUAGES)


@pytest.fixture
def portal(app: Flask, make_tenant: Callable[..., Tenant]) -> Registered:
    tenant = make_tenant("aalst", "41002")
    with app.app_context(), database().unit_of_work() as session:
        admin = create_user(session, {"email": ADMIN, "display_name": "Admin", "password": PASSWORD})
        with tenant_scope(session, tenant.id):
            add_membership(session, tenant.id, admin, TENANT_ADMIN)
    return register(app, tenant, ["clients:manage"], name="Portal", kind="public",
                    grant_types=["authorization_code", "refresh_token"], redirect_uris=[REDIRECT])


def back_to_client(response: Any) -> dict[str, list[str]]:
    """The query the client's redirect URI receives."""
    assert response.status_code in (302, 303), response.get_data(as_text=True)
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    assert not location.fragment
    return parse_qs(location.query)


@pytest.mark.parametrize("mode", ["fragment", "form_post", "query.jwt", "bogus"])
def test_a_response_mode_the_server_does_not_offer_is_refused(app: Flask, portal: Registered, mode: str) -> None:
    _, challenge = pkce_pair()
    answer = app.test_client().get(authorize_url(portal.client_id, challenge, "clients:manage", state="s-1",
                                                 response_mode=mode))
    query = back_to_client(answer)
    assert query["error"] == ["invalid_request"] and "code" not in query
    assert query["state"] == ["s-1"] and query["iss"] == [ISSUER]


def test_response_mode_query_is_served(app: Flask, portal: Registered) -> None:
    _, challenge = pkce_pair()
    browser = app.test_client()
    _, query = code_from(sign_in_and_consent(
        browser, authorize_url(portal.client_id, challenge, "clients:manage", response_mode="query"), ADMIN, PASSWORD))
    assert query["code"] and query["iss"] == [ISSUER]


def test_an_unknown_client_asking_for_a_fragment_gets_a_page_not_a_redirect(app: Flask, portal: Registered) -> None:
    _, challenge = pkce_pair()
    answer = app.test_client().get(authorize_url("aalst.unknown-client", challenge, response_mode="fragment"))
    assert answer.status_code == 400 and "Location" not in answer.headers


def test_every_authorization_response_names_the_issuer(app: Flask, portal: Registered) -> None:
    _, challenge = pkce_pair()
    allowed = back_to_client(sign_in_and_consent(app.test_client(), authorize_url(portal.client_id, challenge,
                                                                                  "clients:manage"), ADMIN, PASSWORD))
    assert allowed["code"] and allowed["iss"] == [ISSUER]
    denied = back_to_client(sign_in_and_consent(app.test_client(), authorize_url(portal.client_id, challenge,
                                                                                 "clients:manage"),
                                                ADMIN, PASSWORD, decision="deny"))
    assert denied["error"] == ["access_denied"] and denied["iss"] == [ISSUER]
    for url in (authorize_url(portal.client_id, None),  # no PKCE challenge
                authorize_url(portal.client_id, challenge, "config:write"),  # a scope the client may not have
                authorize_url(portal.client_id, challenge, method="plain")):
        refused = back_to_client(app.test_client().get(url))
        assert refused["error"] and refused["iss"] == [ISSUER], refused
