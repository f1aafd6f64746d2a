"""/v1: the platform's own clients manage municipalities, teams and delegations; a municipality's
token never opens the platform API, and a platform token never opens a municipality's."""

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet

from api.database import database
from support.contract import assert_problem
from support.oauth import bearer, data, register, register_platform_client, token, token_response
from tenants.models import Tenant
from townhall.auth.operations import create_user

pytestmark = pytest.mark.usefixtures("signing_key")
GENT = {"slug": "gent", "nis_code": "44021", "names": {"nl": "Gent", "fr": "Gand"}, "default_language": "nl",
        "languages": ["nl", "fr"]}


@pytest.fixture
def operator(app: Flask, client: FlaskClient) -> dict[str, str]:
    return bearer(token(client, register_platform_client(app)))


def test_platform_tokens_are_for_the_platform_api(app: Flask, client: FlaskClient) -> None:
    platform = register_platform_client(app)
    keys = KeySet.import_key_set(data(client.get("/.well-known/jwks.json")))
    claims = jwt.decode(token(client, platform), keys).claims
    assert claims["aud"] == "https://townhall.test/v1" and "tenant" not in claims
    refused = token_response(client, platform, scope="clients:manage")
    assert data(refused)["error"] == "invalid_scope"


def test_platform_automation_never_gets_a_municipal_token(
    app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant]
) -> None:
    make_tenant("aalst", "41002")
    platform = register_platform_client(app)
    refused = token_response(client, platform, resource="https://townhall.test/t/aalst")
    assert data(refused)["error"] == "invalid_target"


def test_register_suspend_and_reactivate_a_municipality(client: FlaskClient, operator: dict[str, str]) -> None:
    created = client.post("/v1/tenants", json=GENT, headers=operator)
    assert created.status_code == 201 and created.headers["Location"].endswith("/v1/tenants/gent")
    assert client.get("/t/gent/v1/branding").status_code == 200
    assert_problem(client.post("/v1/tenants", json=GENT, headers=operator), 409)
    assert "slug" in assert_problem(client.post("/v1/tenants", json=GENT | {"slug": "platform", "nis_code": "11111"},
                                                headers=operator), 422)["errors"]

    etag = client.get("/v1/tenants/gent", headers=operator).headers["ETag"]
    assert_problem(client.patch("/v1/tenants/gent", json={"status": "suspended"}, headers=operator), 428)
    suspended = client.patch("/v1/tenants/gent", json={"status": "suspended"}, headers=operator | {"If-Match": etag})
    assert data(suspended)["status"] == "suspended"
    assert_problem(client.get("/t/gent/v1/branding"), 403)
    reactivate = {"status": "active"}
    assert_problem(client.patch("/v1/tenants/gent", json=reactivate, headers=operator | {"If-Match": etag}), 412)
    client.patch("/v1/tenants/gent", json=reactivate, headers=operator | {"If-Match": suspended.headers["ETag"]})
    assert client.get("/t/gent/v1/branding").status_code == 200
    listed = data(client.get("/v1/tenants", headers=operator))
    assert [t["slug"] for t in listed["items"]] == ["gent"]


def test_an_operator_puts_a_municipality_on_another_plan(client: FlaskClient, operator: dict[str, str]) -> None:
    plans = {p["code"]: p for p in data(client.get("/v1/plans", headers=operator))["items"]}
    assert set(plans) == {"small", "standard", "large"}
    assert plans["small"]["client_requests_per_minute"] < plans["large"]["client_requests_per_minute"]
    created = client.post("/v1/tenants", json=GENT | {"plan": "small"}, headers=operator)
    assert data(created)["plan"] == "small"
    gold = client.patch("/v1/tenants/gent", json={"plan": "gold"},
                        headers=operator | {"If-Match": created.headers["ETag"]})
    assert "plan" in assert_problem(gold, 422)["errors"]
    larger = client.patch("/v1/tenants/gent", json={"plan": "large"},
                          headers=operator | {"If-Match": created.headers["ETag"]})
    assert data(larger)["plan"] == "large" and data(larger)["status"] == "active"
    assert larger.headers["ETag"] != created.headers["ETag"]
    assert data(client.post("/v1/tenants", json=GENT | {"slug": "aalst", "nis_code": "41002"},
                            headers=operator))["plan"] == "standard"


def test_teams_and_delegations(app: Flask, client: FlaskClient, operator: dict[str, str],
                               make_tenant: Callable[..., Tenant]) -> None:
    make_tenant("aalst", "41002")
    with app.app_context(), database().unit_of_work() as session:
        create_user(session, {"email": "worker@backoffice.example", "display_name": "Worker"})
    assert client.post("/v1/teams", json={"slug": "dender", "name": "Dender back office"},
                       headers=operator).status_code == 201
    member = client.post("/v1/teams/dender/members", json={"user": "worker@backoffice.example"}, headers=operator)
    assert member.status_code == 201
    assert_problem(client.post("/v1/teams/nope/members", json={"user": "worker@backoffice.example"},
                               headers=operator), 404)
    delegated = client.post("/v1/tenants/aalst/delegations", json={"team": "dender", "service": "eid-card"},
                            headers=operator)
    assert delegated.status_code == 201
    assert_problem(client.post("/v1/tenants/aalst/delegations", json={"team": "dender", "service": "eid-card"},
                               headers=operator), 409)
    listed = data(client.get("/v1/tenants/aalst/delegations", headers=operator))["items"]
    assert [(d["team"], d["service"]) for d in listed] == [("dender", "eid-card")]
    assert client.delete(f"/v1/tenants/aalst/delegations/{data(delegated)['id']}", headers=operator).status_code == 204
    assert data(client.get("/v1/tenants/aalst/delegations", headers=operator))["items"] == []


def test_municipal_and_platform_tokens_do_not_cross(
    app: Flask, client: FlaskClient, operator: dict[str, str], make_tenant: Callable[..., Tenant]
) -> None:
    aalst = make_tenant("aalst", "41002")
    municipal = bearer(token(client, register(app, aalst, ["clients:manage", "members:manage"])))
    for method, path in (("get", "/v1/tenants"), ("post", "/v1/tenants"), ("get", "/v1/teams"),
                         ("get", "/v1/tenants/aalst/delegations")):
        assert_problem(getattr(client, method)(path, json=GENT, headers=municipal), 401)
    assert_problem(client.get("/t/aalst/v1/clients", headers=operator), 401)
    assert_problem(client.get("/v1/tenants"), 401)
