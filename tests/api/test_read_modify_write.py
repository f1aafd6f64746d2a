"""Read-modify-write of every resource a municipality configures, with the same shape everywhere:
GET one with its ETag, a JSON Merge Patch naming one field changes only that field, a stale ETag is
412 and changes nothing, no If-Match is 428."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.database import database
from support.contract import assert_problem
from support.oauth import bearer, data, register, token
from tenants.models import Tenant
from townhall.auth.operations import create_user
from townhall.services.operations import configure_service
from townhall.tenancy import tenant_scope

SCOPES = ["config:write", "clients:manage", "webhooks:manage", "members:manage"]
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
WEEK = {day: [["09:00", "12:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


@dataclass(frozen=True)
class Resource:
    name: str
    create: Callable[[FlaskClient, dict[str, str]], str]  # the resource's path under /t/aalst/v1
    patch: dict[str, Any]
    volatile: tuple[str, ...] = ()  # what the server derives on a write (timestamps, summaries)


def _fixed(path: str) -> Callable[[FlaskClient, dict[str, str]], str]:
    return lambda _client, _headers: path


def _created(collection: str, body: dict[str, Any]) -> Callable[[FlaskClient, dict[str, str]], str]:
    def create(client: FlaskClient, headers: dict[str, str]) -> str:
        response = client.post(f"/t/aalst/v1/{collection}", json=body, headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.headers["Location"].split("/t/aalst/v1", 1)[1]
    return create


def _member(client: FlaskClient, headers: dict[str, str]) -> str:
    added = client.post("/t/aalst/v1/members", json={"user": "an@example.org", "role": "case_worker"}, headers=headers)
    assert added.status_code == 201
    return f"/members/{data(added)['user_id']}"


OFFICE = {"name": "Stadhuis", "address": "Grote Markt 1, Aalst", "lat": 50.9378, "long": 4.0403,
          "languages": ["nl", "fr"], "hours": WEEK, "exceptions": {"2027-12-24": []},
          "services": [{"service": "eid-card", "duration_minutes": 20}]}

RESOURCES = [
    Resource("branding", _fixed("/admin/branding"), {"primary_colour": "#004488"}, ("updated_at",)),
    Resource("catalogue entry", _fixed("/admin/services/eid-card"), {"fee_cents": 2500}, ("updated_at",)),
    Resource("office", _created("offices", OFFICE), {"hours": {"fri": None, "sat": [["09:00", "11:00"]]}}),
    Resource("member", _member, {"roles": ["case_worker", "tenant_admin"]}),
    Resource("client", _created("clients", {"name": "Partner", "kind": "confidential",
                                            "grant_types": ["client_credentials"], "scopes": ["cases:read"]}),
             {"name": "Partner app"}),
    Resource("e-mail template", _fixed("/admin/email-templates/case.created"),
             {"texts": {"nl": {"subject": "Ontvangen: {reference}"}}}, ("customised",)),
    Resource("webhook", _created("webhooks", {"url": "https://127.0.0.1/hooks", "event_types": ["case.created"]}),
             {"event_types": ["case.created", "case.status-changed"]}),
]


@pytest.fixture
def admin(app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant], signing_key: None,
          monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setitem(app.config, "TOWNHALL_SETTINGS",  # the webhook's URL is on loopback
                        replace(app.config["TOWNHALL_SETTINGS"], webhooks_allow_private=True))
    tenant = make_tenant("aalst", "41002")
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, tenant.id):
        create_user(session, {"email": "an@example.org", "display_name": "An"})
        configure_service(session, tenant.id, "eid-card", {"fee_cents": 1500, "names": {"nl": "Identiteitskaart"}})
    return bearer(token(client, register(app, tenant, SCOPES)))


def _merged(before: Any, patch: Any) -> Any:
    """What RFC 7396 says the resource must look like after `patch`."""
    if not isinstance(patch, dict):
        return patch
    result = dict(before) if isinstance(before, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merged(result.get(key), value)
    return result


@pytest.mark.parametrize("resource", RESOURCES, ids=[r.name for r in RESOURCES])
def test_read_modify_write_with_etags(client: FlaskClient, admin: dict[str, str], resource: Resource) -> None:
    path = "/t/aalst/v1" + resource.create(client, admin)
    read = client.get(path, headers=admin)
    assert read.status_code == 200 and read.headers["ETag"].startswith('"')
    before = data(read)

    assert_problem(client.patch(path, json=resource.patch, headers=admin | MERGE_PATCH), 428)
    changed = client.patch(path, json=resource.patch, headers=admin | MERGE_PATCH | {"If-Match": read.headers["ETag"]})
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.headers["ETag"] != read.headers["ETag"]
    after = data(client.get(path, headers=admin))
    expected = _merged(before, resource.patch)
    for field in resource.volatile:
        expected.pop(field), after.pop(field)
    assert after == expected  # the named fields changed, nothing else did

    stale = client.patch(path, json=dict.fromkeys(resource.patch),
                         headers=admin | MERGE_PATCH | {"If-Match": read.headers["ETag"]})
    assert_problem(stale, 412)
    unchanged = data(client.get(path, headers=admin))
    for field in resource.volatile:
        unchanged.pop(field)
    assert unchanged == after

    json_patch = client.patch(path, json=[{"op": "remove", "path": "/name"}],  # RFC 6902 is not what PATCH takes
                              headers=admin | {"Content-Type": "application/json-patch+json",
                                               "If-Match": changed.headers["ETag"]})
    assert_problem(json_patch, 415)


def test_a_merge_patch_that_breaks_the_resource_is_refused_at_the_field(client: FlaskClient,
                                                                        admin: dict[str, str]) -> None:
    office = "/t/aalst/v1" + _created("offices", OFFICE)(client, admin)
    etag = client.get(office, headers=admin).headers["ETag"]
    refused = client.patch(office, json={"name": None}, headers=admin | MERGE_PATCH | {"If-Match": etag})
    assert "name" in assert_problem(refused, 422)["errors"]
    assert data(client.get(office, headers=admin))["name"] == "Stadhuis"

    member = "/t/aalst/v1" + _member(client, admin)
    etag = client.get(member, headers=admin).headers["ETag"]
    mayor = client.patch(member, json={"roles": ["mayor"]}, headers=admin | MERGE_PATCH | {"If-Match": etag})
    assert "roles.0" in assert_problem(mayor, 422)["errors"]
    gone = client.patch(member, json={"roles": []}, headers=admin | MERGE_PATCH | {"If-Match": etag})
    assert gone.status_code == 200 and data(gone)["roles"] == []
    assert_problem(client.get(member, headers=admin), 404)


def test_an_office_whose_services_alone_change_gets_a_new_etag(client: FlaskClient, admin: dict[str, str]) -> None:
    office = "/t/aalst/v1" + _created("offices", OFFICE)(client, admin)
    etag = client.get(office, headers=admin).headers["ETag"]
    more = {"services": [{"service": "eid-card", "duration_minutes": 20, "counters": 3}]}
    changed = client.patch(office, json=more, headers=admin | MERGE_PATCH | {"If-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert_problem(client.patch(office, json={"services": []}, headers=admin | MERGE_PATCH | {"If-Match": etag}), 412)
    assert data(client.get(office, headers=admin))["services"][0]["counters"] == 3
