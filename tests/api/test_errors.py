"""One problem+json envelope for every error, and no input that reaches the database as a 500.

The body-parsing and precondition helpers are exercised through probe routes on a separate app:
the same helpers every write route uses, without waiting for the first write route to exist.
"""

from collections.abc import Callable
from dataclasses import replace

import pytest
from flask import Blueprint, Flask, Response, jsonify
from flask.testing import FlaskClient
from marshmallow import Schema, fields, validate
from werkzeug.exceptions import TooManyRequests

from api import blueprints
from api.access import public
from api.http import json_body, require_if_match
from api.settings import Settings
from support.contract import assert_problem


class Person(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=50))
    email = fields.Email(required=True)


probe = Blueprint("probe", __name__, url_prefix="/probe")


@probe.post("/people")
@public
def create_person() -> Response:
    return jsonify(json_body(Person))


@probe.put("/versioned")
@public
def update_versioned() -> Response:
    require_if_match('"v2"')
    return jsonify(updated=True)


@probe.get("/limited")
@public
def limited() -> Response:
    raise TooManyRequests(retry_after=30)


@probe.get("/boom")
@public
def boom() -> Response:
    raise RuntimeError("secret internals: password=hunter2")


@pytest.fixture
def probe_client(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, make_app: Callable[[Settings], Flask]
) -> FlaskClient:
    monkeypatch.setattr(blueprints, "ALL", (*blueprints.ALL, probe))
    application = make_app(replace(settings, max_body_bytes=2048))
    application.test_client_class = FlaskClient  # probe routes are not in the contract; problems are checked
    return application.test_client()


def test_malformed_json_is_400(probe_client: FlaskClient) -> None:
    response = probe_client.post("/probe/people", data=b"{not json", content_type="application/json")
    assert assert_problem(response, 400)["code"] == "malformed_json"
    response = probe_client.post("/probe/people", data=b"[1, 2]", content_type="application/json")
    assert assert_problem(response, 400)["code"] == "malformed_json"


def test_wrong_content_type_is_415(probe_client: FlaskClient) -> None:
    response = probe_client.post("/probe/people", data="name=x", content_type="application/x-www-form-urlencoded")
    assert assert_problem(response, 415)["code"] == "unsupported_media_type"


def test_body_over_the_limit_is_413(probe_client: FlaskClient) -> None:
    response = probe_client.post("/probe/people", data=b'{"name": "' + b"x" * 4096 + b'"}',
                                 content_type="application/json")
    assert_problem(response, 413)


def test_validation_failure_is_422_listing_the_fields(probe_client: FlaskClient) -> None:
    response = probe_client.post("/probe/people", json={"email": "not-an-address", "extra": 1})
    body = assert_problem(response, 422)
    assert body["code"] == "validation_failed"
    assert set(body["errors"]) == {"name", "email", "extra"}
    assert all(isinstance(m, str) for messages in body["errors"].values() for m in messages)


def test_valid_body_passes(probe_client: FlaskClient) -> None:
    response = probe_client.post("/probe/people", json={"name": "Ann", "email": "ann@example.org"})
    assert response.status_code == 200 and response.json == {"name": "Ann", "email": "ann@example.org"}


def test_update_without_if_match_is_428_and_stale_is_412(probe_client: FlaskClient) -> None:
    assert assert_problem(probe_client.put("/probe/versioned"), 428)["code"] == "precondition_required"
    assert assert_problem(probe_client.put("/probe/versioned", headers={"If-Match": '"v1"'}), 412)
    assert assert_problem(probe_client.put("/probe/versioned", headers={"If-Match": 'W/"v2"'}), 412)
    assert probe_client.put("/probe/versioned", headers={"If-Match": '"v1", "v2"'}).status_code == 200


def test_too_many_requests_is_429_with_retry_after(probe_client: FlaskClient) -> None:
    response = probe_client.get("/probe/limited")
    assert_problem(response, 429)
    assert response.headers["Retry-After"] == "30"


def test_unexpected_error_is_a_500_without_internals(
    probe_client: FlaskClient, capsys: pytest.CaptureFixture[str]
) -> None:
    response = probe_client.get("/probe/boom")
    body = assert_problem(response, 500)
    assert "secret" not in response.get_data(as_text=True) and "Traceback" not in response.get_data(as_text=True)
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert "unhandled error" in capsys.readouterr().err  # logged for the operators


def test_unknown_route_is_a_404_problem(client: FlaskClient) -> None:
    assert_problem(client.get("/no/such/route"), 404)


def test_wrong_method_is_405_with_allow(client: FlaskClient) -> None:
    for path in ("/t/aalst/v1/branding", "/livez", "/readyz"):
        response = client.delete(path)
        assert_problem(response, 405)
        assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize("segment", [
    "x" * 64, "x" * 5000, "A", "a_b", "-a", "a-", "%00", "a%2Fb", "é", "9" * 40, "..", "a%20b", "%F0%9F%98%80",
    "1;DROP TABLE tenants", "'", "%27", "a%0Ab",
])
def test_odd_tenant_segments_never_reach_the_database_as_a_500(client: FlaskClient, segment: str) -> None:
    response = client.get(f"/t/{segment}/v1/branding")
    assert_problem(response, 404)


def _unreachable_settings(settings: Settings, kind: str) -> Settings:
    if kind == "postgresql":
        return replace(settings, database_url="postgresql+psycopg://nobody@127.0.0.1:9/townhall")
    return replace(settings, database_url="sqlite:////nonexistent-directory/townhall.db")


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_unreachable_database_is_a_503_with_retry_after(
    settings: Settings, kind: str, make_app: Callable[[Settings], Flask]
) -> None:
    application = make_app(_unreachable_settings(settings, kind))
    client = application.test_client()
    for path in ("/t/aalst/v1/branding", "/readyz"):
        response = client.get(path)
        assert_problem(response, 503)
        assert response.headers["Retry-After"]
    assert client.get("/livez").status_code == 200  # the process itself is fine
