"""A municipality's admins read and change its branding, names, languages and time zone over the API."""

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from support.contract import assert_problem
from support.oauth import bearer, data, register, token
from tenants.models import Tenant

pytestmark = pytest.mark.usefixtures("signing_key")

MERGE = "application/merge-patch+json"


@pytest.fixture
def admin(app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant]) -> dict[str, str]:
    tenant = make_tenant("ronse", "45041", names={"nl": "Ronse", "fr": "Renaix"}, languages=["nl", "fr"])
    return bearer(token(client, register(app, tenant, ["config:write"])))


def patch(client: FlaskClient, admin: dict[str, str], etag: str, body: str) -> TestResponse:
    return client.patch("/t/ronse/v1/admin/branding", headers=admin | {"If-Match": etag, "Content-Type": MERGE},
                        data=body)


def test_admins_see_every_language_and_patch_only_what_they_name(client: FlaskClient, admin: dict[str, str]) -> None:
    read = client.get("/t/ronse/v1/admin/branding", headers=admin)
    settings = data(read)
    assert settings["names"] == {"nl": "Ronse", "fr": "Renaix"} and settings["languages"] == ["nl", "fr"]
    assert settings["primary_colour"] == "#1d4f91" and settings["time_zone"] == "Europe/Brussels"

    changed = client.patch("/t/ronse/v1/admin/branding", data='{"primary_colour": "#004D40", '
                           '"display_name": {"fr": "Ville de Renaix"}, "contact_email": "info@ronse.be"}',
                           headers=admin | {"If-Match": read.headers["ETag"], "Content-Type": MERGE})
    after = data(changed)
    assert changed.status_code == 200 and changed.headers["ETag"] != read.headers["ETag"]
    assert after["display_name"] == settings["display_name"] | {"fr": "Ville de Renaix"}
    assert after["primary_colour"] == "#004d40" and after["contact_email"] == "info@ronse.be"
    assert after["names"] == settings["names"] and after["accent_colour"] == settings["accent_colour"]

    public = data(client.get("/t/ronse/v1/branding", headers={"Accept-Language": "fr"}))
    assert public["colours"]["primary"] == "#004d40" and public["display_name"] == "Ville de Renaix"

    history = data(client.get("/t/ronse/v1/admin/changes?subject=branding", headers=admin))["items"]
    assert len(history) == 1 and history[0]["changes"]["contact_email"] == {"from": None, "to": "info@ronse.be"}
    assert set(history[0]["changes"]) == {"primary_colour", "display_name", "contact_email"}


def test_languages_and_time_zone_change_with_the_branding(client: FlaskClient, admin: dict[str, str]) -> None:
    etag = client.get("/t/ronse/v1/admin/branding", headers=admin).headers["ETag"]
    changed = patch(client, admin, etag, '{"languages": ["nl", "fr", "de"], "display_name": {"de": "Stadt Ronse"}, '
                                         '"time_zone": "Europe/Berlin"}')
    assert data(changed)["languages"] == ["nl", "fr", "de"] and data(changed)["time_zone"] == "Europe/Berlin"
    german = client.get("/t/ronse/v1/branding", headers={"Accept-Language": "de"})
    assert german.headers["Content-Language"] == "de" and data(german)["time_zone"] == "Europe/Berlin"


@pytest.mark.parametrize(("body", "field"), [
    ('{"primary_colour": "#f2c200"}', "primary_colour"),  # white text on yellow: 1.7:1
    ('{"primary_colour": "blue"}', "primary_colour"),
    ('{"languages": ["fr"]}', "default_language"),
    ('{"time_zone": "Mars/Olympus"}', "time_zone"),
    ('{"logo_url": "http://ronse.be/logo.png"}', "logo_url"),
    ('{"slug": "gent"}', "slug"),
])
def test_bad_settings_are_refused_and_change_nothing(client: FlaskClient, admin: dict[str, str], body: str,
                                                      field: str) -> None:
    read = client.get("/t/ronse/v1/admin/branding", headers=admin)
    problem = assert_problem(patch(client, admin, read.headers["ETag"], body), 422)
    assert field in problem["errors"]
    again = client.get("/t/ronse/v1/admin/branding", headers=admin)
    assert data(again) == data(read) and again.headers["ETag"] == read.headers["ETag"]


def test_put_replaces_the_whole_branding(client: FlaskClient, admin: dict[str, str]) -> None:
    etag = client.get("/t/ronse/v1/admin/branding", headers=admin).headers["ETag"]
    etag = patch(client, admin, etag, '{"phone": "+32 55 23 27 00", "accent_colour": "#123456"}').headers["ETag"]
    replaced = client.put("/t/ronse/v1/admin/branding", headers=admin | {"If-Match": etag},
                          json={"languages": ["nl"], "default_language": "nl", "names": {"nl": "Ronse"}})
    body = data(replaced)
    assert body["phone"] is None and body["accent_colour"] == "#f2c200" and body["languages"] == ["nl"]
    assert body["display_name"] == {"nl": "Ronse"}
    assert_problem(client.put("/t/ronse/v1/admin/branding", headers=admin | {"If-Match": etag}, json={}), 412)
    assert_problem(client.put("/t/ronse/v1/admin/branding", headers=admin, json={}), 428)


def test_only_this_municipalitys_config_writers_may_read_or_change_it(
    app: Flask, client: FlaskClient, admin: dict[str, str], make_tenant: Callable[..., Tenant]
) -> None:
    ninove = make_tenant("ninove", "41048")
    other = bearer(token(client, register(app, ninove, ["config:write"])))
    reader = bearer(token(client, register(app, ninove, ["catalog:read"])))
    for method in ("GET", "PUT", "PATCH"):
        assert_problem(client.open("/t/ronse/v1/admin/branding", method=method, headers=other, json={}), 401)
        assert_problem(client.open("/t/ninove/v1/admin/branding", method=method, headers=reader, json={}), 403)
        assert_problem(client.open("/t/ronse/v1/admin/branding", method=method, json={}), 401)
    assert_problem(client.get("/t/ronse/v1/admin/changes", headers=other), 401)
    assert_problem(client.get("/t/ninove/v1/admin/changes", headers=reader), 403)


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_a_logo_is_uploaded_and_served_publicly(client: FlaskClient, admin: dict[str, str]) -> None:
    assert_problem(client.get("/t/ronse/v1/branding/logo"), 404)
    etag = client.get("/t/ronse/v1/admin/branding", headers=admin).headers["ETag"]
    upload = admin | {"If-Match": etag, "Content-Type": "image/png"}
    assert_problem(client.put("/t/ronse/v1/admin/branding/logo", headers=upload, data=b"<svg/>"), 422)
    assert_problem(client.put("/t/ronse/v1/admin/branding/logo", headers=upload | {"Content-Type": "image/svg+xml"},
                              data=b"<svg/>"), 415)
    assert_problem(client.put("/t/ronse/v1/admin/branding/logo", headers=upload, data=PNG + b"\x00" * 262_144), 422)
    uploaded = client.put("/t/ronse/v1/admin/branding/logo", headers=upload, data=PNG)
    logo_url = data(uploaded)["logo_url"]
    assert uploaded.status_code == 200 and "/t/ronse/v1/branding/logo?v=" in logo_url
    assert data(client.get("/t/ronse/v1/branding"))["logo_url"] == logo_url
    served = client.get("/t/ronse/v1/branding/logo")
    assert served.data == PNG and served.mimetype == "image/png"
    assert_problem(client.put("/t/ronse/v1/admin/branding/logo", headers=upload, data=PNG), 412)  # stale now
    changes = data(client.get("/t/ronse/v1/admin/changes?subject=branding", headers=admin))["items"]
    assert changes[0]["changes"]["logo_url"] == {"from": None, "to": logo_url}
