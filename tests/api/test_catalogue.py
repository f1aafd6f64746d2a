"""The platform's service types and each municipality's catalogue."""

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from support.contract import assert_problem
from support.oauth import bearer, data, register, token
from tenants.models import Tenant

pytestmark = pytest.mark.usefixtures("signing_key")


@pytest.fixture
def admin(app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant]) -> dict[str, str]:
    tenant = make_tenant("ronse", "45041", names={"nl": "Ronse", "fr": "Renaix"})
    return bearer(token(client, register(app, tenant, ["config:write"])))


def test_the_platform_lists_its_service_types_with_their_workflows(client: FlaskClient) -> None:
    response = client.get("/v1/service-types")
    types = {t["code"]: t for t in data(response)["items"]}
    assert len(types) == 7 and response.headers["ETag"]
    eid = types["eid-card"]["workflow"]
    assert eid["initial"] == "submitted" and "handed_over" in eid["terminal"]
    assert {"from": "submitted", "to": "cancelled", "roles": ["case_worker", "citizen"],
            "informs_citizen": True} in eid["transitions"]


def test_a_municipality_offers_services_in_its_own_words(client: FlaskClient, admin: dict[str, str]) -> None:
    assert data(client.get("/t/ronse/v1/services"))["items"] == []
    offered = client.put("/t/ronse/v1/services/travel-document", headers=admin,
                         json={"fee_cents": 8000, "channels": ["online", "counter"],
                               "names": {"nl": "Paspoort", "fr": "Passeport belge"}})
    assert offered.status_code == 201 and data(offered)["fee"] == {"amount_cents": 8000, "currency": "EUR"}
    client.put("/t/ronse/v1/services/certificate", headers=admin, json={})

    french = client.get("/t/ronse/v1/services", headers={"Accept-Language": "fr"})
    items = {i["code"]: i for i in data(french)["items"]}
    assert items["travel-document"]["name"] == "Passeport belge"
    assert items["certificate"]["name"] == "Certificat"  # the service's own text where none is set
    assert items["certificate"]["fee"]["amount_cents"] == 0 and items["certificate"]["processing_days"] == 0
    assert french.headers["Content-Language"] == "fr" and "Accept-Language" in french.headers["Vary"]
    revalidate = {"Accept-Language": "fr", "If-None-Match": french.headers["ETag"]}
    cached = client.get("/t/ronse/v1/services", headers=revalidate)
    assert cached.status_code == 304


def test_changes_need_the_etag_and_disabling_hides_the_service(client: FlaskClient, admin: dict[str, str]) -> None:
    first = client.put("/t/ronse/v1/services/bulky-waste", headers=admin, json={"fee_cents": 1500})
    assert_problem(client.put("/t/ronse/v1/services/bulky-waste", headers=admin, json={"enabled": False}), 428)
    stale = client.put("/t/ronse/v1/services/bulky-waste", headers=admin | {"If-Match": '"v0"'}, json={})
    assert_problem(stale, 412)
    hidden = client.put("/t/ronse/v1/services/bulky-waste", headers=admin | {"If-Match": first.headers["ETag"]},
                        json={"enabled": False})
    assert hidden.status_code == 200 and data(hidden)["enabled"] is False
    assert data(client.get("/t/ronse/v1/services"))["items"] == []


def test_bad_entries_are_refused(client: FlaskClient, admin: dict[str, str]) -> None:
    assert_problem(client.put("/t/ronse/v1/services/teleportation", headers=admin, json={}), 404)
    body = assert_problem(client.put("/t/ronse/v1/services/eid-card", headers=admin,
                                     json={"fee_cents": -1, "channels": ["pigeon"], "processing_days": "ten"}), 422)
    assert {"fee_cents", "channels.0", "processing_days"} <= set(body["errors"])


def test_only_config_write_of_this_municipality_may_change_the_catalogue(
    app: Flask, client: FlaskClient, admin: dict[str, str], make_tenant: Callable[..., Tenant]
) -> None:
    ninove = make_tenant("ninove", "41048")
    other = bearer(token(client, register(app, ninove, ["config:write"])))
    assert_problem(client.put("/t/ronse/v1/services/eid-card", headers=other, json={}), 401)
    reader = bearer(token(client, register(app, ninove, ["catalog:read"])))
    assert_problem(client.put("/t/ninove/v1/services/eid-card", headers=reader, json={}), 403)
    assert_problem(client.put("/t/ronse/v1/services/eid-card", json={}), 401)
