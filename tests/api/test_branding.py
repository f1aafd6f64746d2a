"""Public branding: localised, cacheable, and only for active municipalities."""

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from api.database import database
from support.contract import assert_problem
from tenants.models import Tenant, TenantStatus
from tenants.operations import set_status, update_branding
from tenants.queries import branding_of, require_tenant
from townhall.changes.queries import history
from townhall.tenancy import tenant_scope


def brand(app: Flask, slug: str, **fields: object) -> None:
    with app.app_context(), database().unit_of_work() as session:
        tenant = require_tenant(session, slug)
        with tenant_scope(session, tenant.id):
            update_branding(session, tenant, branding_of(session, tenant.id), fields, "test")


def test_branding_is_localised_with_accept_language(
    app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant]
) -> None:
    make_tenant("ronse", "45041", names={"nl": "Ronse", "fr": "Renaix"})
    brand(app, "ronse", display_name={"nl": "Stad Ronse", "fr": "Ville de Renaix"}, primary_colour="#004D40")

    french = client.get("/t/ronse/v1/branding", headers={"Accept-Language": "fr-BE, fr;q=0.9, nl;q=0.5"})
    dutch = client.get("/t/ronse/v1/branding", headers={"Accept-Language": "nl"})

    assert french.status_code == 200
    assert french.json is not None and dutch.json is not None
    assert (french.json["display_name"], french.json["name"], french.json["language"]) == (
        "Ville de Renaix", "Renaix", "fr")
    assert french.headers["Content-Language"] == "fr"
    assert dutch.json["display_name"] == "Stad Ronse"
    assert french.json["colours"]["primary"] == "#004d40"
    assert french.headers["ETag"] != dutch.headers["ETag"]
    assert "Accept-Language" in french.headers["Vary"]
    assert french.headers["Cache-Control"].startswith("public, max-age=")


def test_unoffered_or_missing_language_falls_back_to_the_default(
    client: FlaskClient, make_tenant: Callable[..., Tenant]
) -> None:
    make_tenant("ronse", "45041", names={"nl": "Ronse", "fr": "Renaix"})
    for header in ({"Accept-Language": "de-DE, en;q=0.5"}, {}, {"Accept-Language": "*;q=0"}):
        response = client.get("/t/ronse/v1/branding", headers=header)
        assert response.json is not None
        assert (response.status_code, response.json["language"], response.json["name"]) == (200, "nl", "Ronse")


def test_etag_gives_304_until_the_branding_changes(
    app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant]
) -> None:
    make_tenant("aalst", "41002")
    first = client.get("/t/aalst/v1/branding")
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")

    cached = client.get("/t/aalst/v1/branding", headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.data == b"" and cached.headers["ETag"] == etag
    weak = client.get("/t/aalst/v1/branding", headers={"If-None-Match": f'"other", W/{etag}'})
    assert weak.status_code == 304  # If-None-Match compares weakly

    brand(app, "aalst", accent_colour="#123456")
    changed = client.get("/t/aalst/v1/branding", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.json is not None and changed.json["colours"]["accent"] == "#123456"


def test_head_answers_like_get_without_a_body(client: FlaskClient, make_tenant: Callable[..., Tenant]) -> None:
    make_tenant("aalst", "41002")
    response = client.head("/t/aalst/v1/branding")
    assert response.status_code == 200 and response.data == b"" and "ETag" in response.headers


def test_unknown_tenant_is_a_404_problem(client: FlaskClient) -> None:
    body = assert_problem(client.get("/t/atlantis/v1/branding"), 404)
    assert body["code"] == "tenant_not_found"


def test_suspended_tenant_is_a_403_problem(
    app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant]
) -> None:
    make_tenant("ninove", "41048")
    with app.app_context(), database().unit_of_work() as session:
        set_status(session, require_tenant(session, "ninove"), TenantStatus.SUSPENDED, "test")
    body = assert_problem(client.get("/t/ninove/v1/branding"), 403)
    assert body["code"] == "tenant_suspended"


def test_branding_changes_keep_their_history(app: Flask, make_tenant: Callable[..., Tenant]) -> None:
    make_tenant("haaltert", "41024")
    brand(app, "haaltert", primary_colour="#2e7d32", website="https://www.haaltert.be")
    brand(app, "haaltert", primary_colour="#2e7d32")  # no change: no history entry
    with app.app_context(), database().unit_of_work() as session:
        tenant = require_tenant(session, "haaltert")
        with tenant_scope(session, tenant.id):
            changes = history(session, tenant.id)
    assert [change.subject for change in changes] == ["branding", "tenant"]
    latest = changes[0]
    assert latest.actor == "test"
    assert latest.changes["primary_colour"] == {"from": "#1d4f91", "to": "#2e7d32"}
    assert latest.changes["website"] == {"from": None, "to": "https://www.haaltert.be"}
