"""/t/<tenant>/v1/members: tenant admins manage their own staff, never another municipality's."""

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.database import database
from support.contract import assert_problem
from support.oauth import bearer, data, register, token
from tenants.models import Tenant
from townhall.auth.models import User
from townhall.auth.operations import create_team, create_user

pytestmark = pytest.mark.usefixtures("signing_key")


@pytest.fixture
def staff(app: Flask) -> list[User]:
    with app.app_context(), database().unit_of_work() as session:
        return [create_user(session, {"email": email, "display_name": email.split("@")[0]})
                for email in ("an@example.org", "bert@example.org", "chris@example.org")]


def admin_token(app: Flask, client: FlaskClient, tenant: Tenant) -> dict[str, str]:
    return bearer(token(client, register(app, tenant, ["members:manage"])))


def test_add_list_and_remove_members(
    app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant], staff: list[User]
) -> None:
    admin = admin_token(app, client, make_tenant("aalst", "41002"))
    for user in staff:
        added = client.post("/t/aalst/v1/members", json={"user": user.email, "role": "case_worker"}, headers=admin)
        assert added.status_code == 201 and data(added)["role"] == "case_worker"
    again = client.post("/t/aalst/v1/members", json={"user": "an@example.org", "role": "case_worker"}, headers=admin)
    assert_problem(again, 409)
    assert_problem(client.post("/t/aalst/v1/members", json={"user": "nobody@example.org", "role": "case_worker"},
                               headers=admin), 404)
    mayor = client.post("/t/aalst/v1/members", json={"user": "an@example.org", "role": "mayor"}, headers=admin)
    assert "role" in assert_problem(mayor, 422)["errors"]

    first = data(client.get("/t/aalst/v1/members?limit=2", headers=admin))
    second = data(client.get(first["next"].replace("https://townhall.test", ""), headers=admin))
    emails = [m["email"] for m in first["items"] + second["items"]]
    assert emails == ["an@example.org", "bert@example.org", "chris@example.org"] and second["next"] is None

    location = f"/t/aalst/v1/members/{staff[0].id}/roles/case_worker"
    assert client.delete(location, headers=admin).status_code == 204
    assert_problem(client.delete(location, headers=admin), 404)


def test_an_admin_of_one_municipality_cannot_manage_anothers_staff(
    app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant], staff: list[User]
) -> None:
    aalst_admin = admin_token(app, client, make_tenant("aalst", "41002"))
    ninove_admin = admin_token(app, client, make_tenant("ninove", "41048"))
    client.post("/t/ninove/v1/members", json={"user": "an@example.org", "role": "tenant_admin"}, headers=ninove_admin)
    assert_problem(client.get("/t/ninove/v1/members", headers=aalst_admin), 401)
    assert_problem(client.post("/t/ninove/v1/members", json={"user": "bert@example.org", "role": "tenant_admin"},
                               headers=aalst_admin), 401)
    assert_problem(client.delete(f"/t/ninove/v1/members/{staff[0].id}/roles/tenant_admin", headers=aalst_admin), 401)
    # Through aalst's own URL, ninove's membership does not exist.
    assert_problem(client.delete(f"/t/aalst/v1/members/{staff[0].id}/roles/tenant_admin", headers=aalst_admin), 404)
    assert data(client.get("/t/aalst/v1/members", headers=aalst_admin))["items"] == []


def test_a_municipality_entrusts_a_service_to_a_shared_back_office_itself(
    app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant], staff: list[User]
) -> None:
    aalst = make_tenant("aalst", "41002")
    aalst_admin = admin_token(app, client, aalst)
    ninove_admin = admin_token(app, client, make_tenant("ninove", "41048"))
    with app.app_context(), database().unit_of_work() as session:
        create_team(session, "dender", "Dender back office")
    assert data(client.get("/t/aalst/v1/teams", headers=aalst_admin))["items"] == [
        {"slug": "dender", "name": "Dender back office"}]
    unknown = client.post("/t/aalst/v1/delegations", json={"team": "nope", "service": "eid-card"}, headers=aalst_admin)
    assert "team" in assert_problem(unknown, 422)["errors"]
    given = client.post("/t/aalst/v1/delegations", json={"team": "dender", "service": "eid-card"}, headers=aalst_admin)
    assert given.status_code == 201 and data(given)["created_by"].startswith("client:")
    assert_problem(client.post("/t/aalst/v1/delegations", json={"team": "dender", "service": "eid-card"},
                               headers=aalst_admin), 409)
    assert data(client.get("/t/ninove/v1/delegations", headers=ninove_admin))["items"] == []  # Aalst's alone
    location = given.headers["Location"].replace("https://townhall.test", "")
    assert_problem(client.delete(location.replace("/aalst/", "/ninove/"), headers=ninove_admin), 404)
    assert client.delete(location, headers=aalst_admin).status_code == 204
    history = data(client.get("/t/aalst/v1/admin/changes?subject=delegations",
                              headers=bearer(token(client, register(app, aalst, ["config:write"])))))
    assert [entry["changes"]["dender.eid-card"]["to"] for entry in history["items"]] == [None, "delegated"]

