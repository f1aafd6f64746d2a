"""A shared back-office worker acts for a municipality only through that municipality's delegation."""

from collections.abc import Callable

import pytest
from flask import Flask
from joserfc import jwt
from joserfc.jwk import KeySet

from api.database import database
from support.oauth import (
    REDIRECT,
    authorize_url,
    code_from,
    data,
    pkce_pair,
    register,
    sign_in_and_consent,
    user_token,
)
from tenants.models import Tenant
from townhall.auth.operations import add_team_member, create_team, create_user, delegate
from townhall.tenancy import tenant_scope

pytestmark = pytest.mark.usefixtures("signing_key")
PASSWORD = "correct horse battery"
WORKER = "worker@backoffice.example"


@pytest.fixture
def consortium(app: Flask, make_tenant: Callable[..., Tenant]) -> dict[str, Tenant]:
    tenants = {"aalst": make_tenant("aalst", "41002"), "haaltert": make_tenant("haaltert", "41024")}
    with app.app_context(), database().unit_of_work() as session:
        worker = create_user(session, {"email": WORKER, "display_name": "Worker", "password": PASSWORD})
        team = create_team(session, "dender", "Dender back office")
        add_team_member(session, team, worker)
        with tenant_scope(session, tenants["aalst"].id):
            delegate(session, tenants["aalst"].id, team, "eid-card", "test")
    return tenants


def claims_for(app: Flask, tenant: Tenant) -> dict[str, object]:
    portal = register(app, tenant, ["cases:read", "cases:write"], kind="public",
                      grant_types=["authorization_code"], redirect_uris=[REDIRECT])
    verifier, challenge = pkce_pair()
    browser = app.test_client()
    _, query = code_from(sign_in_and_consent(browser, authorize_url(portal.client_id, challenge, "cases:write"),
                                             WORKER, PASSWORD))
    tokens = data(browser.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": REDIRECT,
        "client_id": portal.client_id, "code_verifier": verifier}))
    keys = KeySet.import_key_set(data(browser.get("/.well-known/jwks.json")))
    claims: dict[str, object] = jwt.decode(tokens["access_token"], keys).claims
    return claims


def test_the_delegating_municipality_sees_the_worker_as_staff_for_its_services(
    app: Flask, consortium: dict[str, Tenant]
) -> None:
    claims = claims_for(app, consortium["aalst"])
    assert claims["tenant"] == "aalst" and claims["services"] == ["eid-card"] and "roles" not in claims


def test_a_municipality_that_delegated_nothing_sees_only_a_citizen(app: Flask, consortium: dict[str, Tenant]) -> None:
    claims = claims_for(app, consortium["haaltert"])
    assert claims["tenant"] == "haaltert" and "services" not in claims and "roles" not in claims


def test_a_citizens_token_opens_the_api(app: Flask, consortium: dict[str, Tenant]) -> None:
    """A person without any role gets a token the APIs accept (no empty `roles` claim)."""
    portal = register(app, consortium["haaltert"], ["cases:read"], kind="public",
                      grant_types=["authorization_code"], redirect_uris=[REDIRECT])
    access = user_token(app, portal.client_id, WORKER, PASSWORD, "cases:read")
    me = data(app.test_client().get("/t/haaltert/v1/me", headers={"Authorization": f"Bearer {access}"}))
    assert me["principal_type"] == "user" and me["roles"] == []
