"""The platform's service types and each municipality's catalogue."""

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from support.console import local
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
    assert all(t["form"]["$schema"] == "https://json-schema.org/draft/2020-12/schema" for t in types.values())
    eid = types["eid-card"]["workflow"]
    assert eid["initial"] == "submitted" and "handed_over" in eid["terminal"]
    assert {"from": "submitted", "to": "cancelled", "roles": ["case_worker", "citizen"],
            "informs_citizen": True} in eid["transitions"]


def test_a_municipality_offers_services_in_its_own_words(client: FlaskClient, admin: dict[str, str]) -> None:
    assert data(client.get("/t/ronse/v1/services"))["items"] == []
    offered = client.put("/t/ronse/v1/admin/services/travel-document", headers=admin,
                         json={"fee_cents": 8000, "channels": ["online", "counter"],
                               "names": {"nl": "Paspoort", "fr": "Passeport belge"}})
    assert offered.status_code == 201 and data(offered)["fee_cents"] == 8000
    client.put("/t/ronse/v1/admin/services/certificate", headers=admin, json={})

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
    first = client.put("/t/ronse/v1/admin/services/bulky-waste", headers=admin, json={"fee_cents": 1500})
    assert_problem(client.put("/t/ronse/v1/admin/services/bulky-waste", headers=admin, json={"enabled": False}), 428)
    stale = client.put("/t/ronse/v1/admin/services/bulky-waste", headers=admin | {"If-Match": '"v0"'}, json={})
    assert_problem(stale, 412)
    hidden = client.put("/t/ronse/v1/admin/services/bulky-waste", headers=admin | {"If-Match": first.headers["ETag"]},
                        json={"enabled": False})
    assert hidden.status_code == 200 and data(hidden)["enabled"] is False
    assert data(client.get("/t/ronse/v1/services"))["items"] == []


def test_bad_entries_are_refused(client: FlaskClient, admin: dict[str, str]) -> None:
    assert_problem(client.put("/t/ronse/v1/admin/services/teleportation", headers=admin, json={}), 404)
    body = assert_problem(client.put("/t/ronse/v1/admin/services/eid-card", headers=admin,
                                     json={"fee_cents": -1, "channels": ["pigeon"], "processing_days": "ten"}), 422)
    assert {"fee_cents", "channels.0", "processing_days"} <= set(body["errors"])


def test_only_config_write_of_this_municipality_may_change_the_catalogue(
    app: Flask, client: FlaskClient, admin: dict[str, str], make_tenant: Callable[..., Tenant]
) -> None:
    ninove = make_tenant("ninove", "41048")
    other = bearer(token(client, register(app, ninove, ["config:write"])))
    assert_problem(client.put("/t/ronse/v1/admin/services/eid-card", headers=other, json={}), 401)
    reader = bearer(token(client, register(app, ninove, ["catalog:read"])))
    assert_problem(client.put("/t/ninove/v1/admin/services/eid-card", headers=reader, json={}), 403)
    assert_problem(client.put("/t/ronse/v1/admin/services/eid-card", json={}), 401)


def test_one_service_type_publishes_its_form(client: FlaskClient) -> None:
    form = data(client.get("/v1/service-types/eid-card"))["form"]
    assert form["required"] == ["reason", "photo"] and form["additionalProperties"] is False
    assert "stolen" in form["properties"]["reason"]["enum"]
    assert {"if": {"properties": {"reason": {"enum": ["stolen"]}}, "required": ["reason"]},
            "then": {"required": ["police_report"]}} in form["allOf"]
    assert data(client.get("/v1/service-types/parking-permit"))["form"]["x-checked-by-server"] == ["plate"]
    assert_problem(client.get("/v1/service-types/teleportation"), 404)


def test_one_catalogue_entry_shows_what_to_bring_and_the_form(client: FlaskClient, admin: dict[str, str]) -> None:
    assert_problem(client.get("/t/ronse/v1/services/eid-card"), 404)
    client.put("/t/ronse/v1/admin/services/eid-card", headers=admin, json={"names": {"fr": "Carte eID"}})
    entry = client.get("/t/ronse/v1/services/eid-card", headers={"Accept-Language": "fr"})
    body = data(entry)
    assert body["name"] == "Carte eID" and body["evidence"] == ["photo"]
    assert body["form"] == data(client.get("/v1/service-types/eid-card"))["form"]
    assert client.get("/t/ronse/v1/services/eid-card", headers={"If-None-Match": entry.headers["ETag"],
                                                               "Accept-Language": "fr"}).status_code == 304


def test_admins_read_every_setting_and_patch_only_what_they_name(client: FlaskClient, admin: dict[str, str]) -> None:
    client.put("/t/ronse/v1/admin/services/travel-document", headers=admin,
               json={"fee_cents": 8000, "channels": ["online", "counter"], "processing_days": 20,
                     "names": {"nl": "Paspoort", "fr": "Passeport belge"}, "enabled": False})
    assert data(client.get("/t/ronse/v1/services"))["items"] == []  # hidden from the public...
    read = client.get("/t/ronse/v1/admin/services/travel-document", headers=admin)
    assert data(read)["enabled"] is False and read.headers["ETag"] == '"v1"'  # ...not from its admins
    assert [i["code"] for i in data(client.get("/t/ronse/v1/admin/services", headers=admin))["items"]] == [
        "travel-document"]

    patch = admin | {"If-Match": read.headers["ETag"], "Content-Type": "application/merge-patch+json"}
    changed = client.patch("/t/ronse/v1/admin/services/travel-document", headers=patch,
                           data='{"fee_cents": 9000, "enabled": true, "names": {"fr": null, "de": "Reisepass"}}')
    assert changed.status_code == 200 and changed.headers["ETag"] == '"v2"'
    assert data(changed) | {"updated_at": None} == {
        "code": "travel-document", "enabled": True, "fee_cents": 9000, "processing_days": 20,
        "retention_days": 3650, "channels": ["online", "counter"], "names": {"nl": "Paspoort", "de": "Reisepass"},
        "descriptions": {},
        "updated_at": None}
    reset = client.patch("/t/ronse/v1/admin/services/travel-document", headers=patch | {"If-Match": '"v2"'},
                         data='{"processing_days": null}')
    assert data(reset)["processing_days"] == 10 and data(reset)["fee_cents"] == 9000  # the service's default

    assert_problem(client.patch("/t/ronse/v1/admin/services/travel-document", headers=patch, json={}), 412)
    assert_problem(client.patch("/t/ronse/v1/admin/services/travel-document", headers=admin, json={}), 428)
    refused = client.patch("/t/ronse/v1/admin/services/travel-document", headers=patch | {"If-Match": '"v3"'},
                           data='{"fee_cents": -5}')
    assert "fee_cents" in assert_problem(refused, 422)["errors"]
    json_patch = patch | {"If-Match": '"v3"', "Content-Type": "application/json-patch+json"}
    assert_problem(client.patch("/t/ronse/v1/admin/services/travel-document", headers=json_patch,
                                data='[{"op": "remove", "path": "/fee_cents"}]'), 415)
    assert data(client.get("/t/ronse/v1/admin/services/travel-document", headers=admin))["fee_cents"] == 9000
    assert_problem(client.patch("/t/ronse/v1/admin/services/certificate", headers=patch, json={}), 404)

    changes = data(client.get("/t/ronse/v1/admin/changes?subject=service:travel-document", headers=admin))["items"]
    assert [set(c["changes"]) for c in changes] == [
        {"processing_days"}, {"enabled", "names", "fee_cents"},
        {"enabled", "names", "descriptions", "fee_cents", "processing_days", "retention_days", "channels"}]
    assert changes[1]["changes"]["fee_cents"] == {"from": 8000, "to": 9000}
    assert changes[0]["actor"].startswith("client:")
    # retention: the municipality sets it within the platform's bounds for the service
    bounds = data(client.get("/v1/service-types/travel-document"))["retention"]
    assert (bounds["default_days"], bounds["min_days"], bounds["max_days"]) == (3650, 365, 5475)
    current = {"If-Match": client.get("/t/ronse/v1/admin/services/travel-document", headers=admin).headers["ETag"]}
    too_short = client.patch("/t/ronse/v1/admin/services/travel-document", headers=patch | current,
                             json={"retention_days": 30})
    assert "retention_days" in str(assert_problem(too_short, 422))  # refused at the field
    kept = client.patch("/t/ronse/v1/admin/services/travel-document", headers=patch | current,
                        json={"retention_days": 1825})
    assert kept.status_code == 200 and data(kept)["retention_days"] == 1825


def test_the_history_pages_with_its_cursor_newest_first(client: FlaskClient, admin: dict[str, str]) -> None:
    for days in range(11, 16):
        etag = client.get("/t/ronse/v1/admin/services/travel-document", headers=admin).headers.get("ETag", "*")
        assert client.put("/t/ronse/v1/admin/services/travel-document", json={"processing_days": days},
                          headers=admin | {"If-Match": etag}).status_code in (200, 201)
    seen: list[int] = []
    url = "/t/ronse/v1/admin/changes?subject=service:travel-document&limit=2"
    while url:
        page = data(client.get(url, headers=admin))
        assert len(page["items"]) <= 2
        seen += [c["changes"]["processing_days"]["to"] for c in page["items"]]
        url = "" if page["next"] is None else local(page["next"])
    assert seen == [15, 14, 13, 12, 11]
    assert_problem(client.get("/t/ronse/v1/admin/changes?cursor=nonsense", headers=admin), 400)
