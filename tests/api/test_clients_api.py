"""/t/<tenant>/v1/clients: tenant admins manage their own municipality's clients, nobody else's."""

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.database import database
from support.contract import assert_problem
from support.oauth import Registered, bearer, data, register, token, token_response
from tenants.models import Tenant
from townhall.auth.queries import client_by_id
from townhall.tenancy import tenant_scope

pytestmark = pytest.mark.usefixtures("signing_key")

FRONT_END = {"name": "Citizen portal", "kind": "public", "grant_types": ["authorization_code", "refresh_token"],
             "redirect_uris": ["https://portaal.aalst.example/callback", "http://127.0.0.1:8765/callback"],
             "scopes": ["cases:read", "cases:write"]}
PARTNER = {"name": "Registry sync", "kind": "confidential", "grant_types": ["client_credentials"],
           "scopes": ["events:write"]}


@pytest.fixture
def two(make_tenant: Callable[..., Tenant]) -> tuple[Tenant, Tenant]:
    return make_tenant("aalst", "41002"), make_tenant("ninove", "41048")


@pytest.fixture
def admin_of_aalst(app: Flask, client: FlaskClient, two: tuple[Tenant, Tenant]) -> dict[str, str]:
    return bearer(token(client, register(app, two[0], ["clients:manage"])))


def test_register_show_once_and_list_without_secrets(
    app: Flask, client: FlaskClient, admin_of_aalst: dict[str, str], two: tuple[Tenant, Tenant]
) -> None:
    created = client.post("/t/aalst/v1/clients", json=PARTNER, headers=admin_of_aalst)
    assert created.status_code == 201
    body = data(created)
    assert body["client_id"].startswith("aalst.") and len(body["client_secret"]) >= 40
    assert created.headers["Location"].endswith(f"/t/aalst/v1/clients/{body['client_id']}")

    with app.app_context(), database().sessions() as session, tenant_scope(session, two[0].id):
        stored = client_by_id(session, body["client_id"])
        assert stored is not None and stored.secret_hash is not None
        assert body["client_secret"] not in stored.secret_hash  # only a hash is kept

    shown = client.get(created.headers["Location"], headers=admin_of_aalst)
    assert "client_secret" not in data(shown) and shown.headers["ETag"] == created.headers["ETag"]
    listed = data(client.get("/t/aalst/v1/clients", headers=admin_of_aalst))
    assert body["client_id"] in [c["client_id"] for c in listed["items"]]
    assert all("client_secret" not in c for c in listed["items"])

    partner = Registered("aalst", body["client_id"], body["client_secret"])
    assert token_response(client, partner, scope="events:write").status_code == 200


def test_public_clients_have_no_secret_and_redirects_are_checked(
    client: FlaskClient, admin_of_aalst: dict[str, str]
) -> None:
    created = data(client.post("/t/aalst/v1/clients", json=FRONT_END, headers=admin_of_aalst))
    assert created["kind"] == "public" and "client_secret" not in created

    bad = FRONT_END | {"redirect_uris": ["http://portal.example/cb", "https://x.example/cb#frag", "ftp://x"]}
    body = assert_problem(client.post("/t/aalst/v1/clients", json=bad, headers=admin_of_aalst), 422)
    assert set(body["errors"]) == {"redirect_uris.0", "redirect_uris.1", "redirect_uris.2"}
    no_secret_credentials = PARTNER | {"kind": "public"}
    assert_problem(client.post("/t/aalst/v1/clients", json=no_secret_credentials, headers=admin_of_aalst), 422)
    unknown_scope = PARTNER | {"scopes": ["everything"]}
    assert_problem(client.post("/t/aalst/v1/clients", json=unknown_scope, headers=admin_of_aalst), 422)


def test_changes_need_the_current_etag(client: FlaskClient, admin_of_aalst: dict[str, str]) -> None:
    created = client.post("/t/aalst/v1/clients", json=PARTNER, headers=admin_of_aalst)
    location, etag = created.headers["Location"], created.headers["ETag"]
    assert_problem(client.patch(location, json={"name": "Renamed"}, headers=admin_of_aalst), 428)
    changed = client.patch(location, json={"name": "Renamed"}, headers=admin_of_aalst | {"If-Match": etag})
    assert data(changed)["name"] == "Renamed" and changed.headers["ETag"] != etag
    stale = client.patch(location, json={"name": "Again"}, headers=admin_of_aalst | {"If-Match": etag})
    assert_problem(stale, 412)
    refused = client.patch(location, json={"kind": "public"},
                           headers=admin_of_aalst | {"If-Match": changed.headers["ETag"]})
    assert "kind" in assert_problem(refused, 422)["errors"]


def test_rotating_the_secret_stops_the_old_one(client: FlaskClient, admin_of_aalst: dict[str, str]) -> None:
    created = client.post("/t/aalst/v1/clients", json=PARTNER, headers=admin_of_aalst)
    old = Registered("aalst", data(created)["client_id"], data(created)["client_secret"])
    rotated = client.post(created.headers["Location"] + "/secret",
                          headers=admin_of_aalst | {"If-Match": created.headers["ETag"]})
    new = Registered("aalst", old.client_id, data(rotated)["client_secret"])
    assert new.secret != old.secret
    assert data(token_response(client, old))["error"] == "invalid_client"
    assert token_response(client, new).status_code == 200


def test_disabling_a_client_stops_its_tokens(client: FlaskClient, admin_of_aalst: dict[str, str]) -> None:
    created = client.post("/t/aalst/v1/clients", json=PARTNER, headers=admin_of_aalst)
    partner = Registered("aalst", data(created)["client_id"], data(created)["client_secret"])
    client.patch(created.headers["Location"], json={"status": "disabled"},
                 headers=admin_of_aalst | {"If-Match": created.headers["ETag"]})
    assert data(token_response(client, partner))["error"] == "invalid_client"


def test_an_admin_of_one_municipality_cannot_touch_anothers_clients(
    app: Flask, client: FlaskClient, admin_of_aalst: dict[str, str], two: tuple[Tenant, Tenant]
) -> None:
    ninoves = register(app, two[1], ["events:write"])
    # Through ninove's URL: the token is for aalst.
    for method, path in (("get", "/t/ninove/v1/clients"), ("post", "/t/ninove/v1/clients"),
                         ("get", f"/t/ninove/v1/clients/{ninoves.client_id}"),
                         ("patch", f"/t/ninove/v1/clients/{ninoves.client_id}"),
                         ("post", f"/t/ninove/v1/clients/{ninoves.client_id}/secret")):
        response = getattr(client, method)(path, json=PARTNER, headers=admin_of_aalst | {"If-Match": '"v1"'})
        assert_problem(response, 401)
    # Through aalst's URL: ninove's client does not exist there.
    for method, path in (("get", f"/t/aalst/v1/clients/{ninoves.client_id}"),
                         ("patch", f"/t/aalst/v1/clients/{ninoves.client_id}"),
                         ("post", f"/t/aalst/v1/clients/{ninoves.client_id}/secret")):
        response = getattr(client, method)(path, json={"name": "x"}, headers=admin_of_aalst | {"If-Match": '"v1"'})
        assert_problem(response, 404)
    assert ninoves.client_id not in str(data(client.get("/t/aalst/v1/clients", headers=admin_of_aalst)))


def test_lists_are_paged_with_a_cursor(client: FlaskClient, admin_of_aalst: dict[str, str]) -> None:
    for number in range(4):
        client.post("/t/aalst/v1/clients", json=PARTNER | {"name": f"Partner {number}"}, headers=admin_of_aalst)
    first = client.get("/t/aalst/v1/clients?limit=2", headers=admin_of_aalst)
    page = data(first)
    assert len(page["items"]) == 2 and page["next"] and 'rel="next"' in first.headers["Link"]
    seen = [c["client_id"] for c in page["items"]]
    while page["next"]:
        page = data(client.get(page["next"].replace("https://townhall.test", ""), headers=admin_of_aalst))
        seen += [c["client_id"] for c in page["items"]]
    assert len(seen) == 5 and seen == sorted(seen)
    for bad in ("limit=0", "limit=201", "limit=x", "cursor=%%%"):
        assert_problem(client.get(f"/t/aalst/v1/clients?{bad}", headers=admin_of_aalst), 400)
