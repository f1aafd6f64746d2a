"""What no request may carry, on either backend: integers the database cannot hold, NUL characters
(PostgreSQL text refuses them), and a query parameter given twice. Each is a problem, nothing changes."""

import os
import subprocess
import time

import pytest
import requests
from flask.testing import FlaskClient

from api.settings import Settings
from factories import Town
from support.contract import assert_problem
from support.oauth import data
from support.receiver import free_port
from support.suite import ROOT

FEE = {"kind": "fee", "service": "eid-card", "expression": "2000",
       "examples": [{"input": {}, "expected": 2000}]}


def _rule_count(client: FlaskClient, rules_town: Town) -> int:
    return len(data(client.get("/t/aalst/v1/rules", headers=rules_town.headers["admin"]))["items"])


@pytest.mark.parametrize("version", [2**63, 2**31, 0])
def test_a_version_number_out_of_range_is_a_problem_before_any_query(
    client: FlaskClient, rules_town: Town, version: int
) -> None:
    rule = rules_town.rule(client, FEE)
    answer = client.post(f"/t/aalst/v1/rules/{rule['id']}/evaluate", json={"input": {}, "version": version},
                         headers=rules_town.headers["admin"])
    assert "version" in assert_problem(answer, 422)["errors"]


def test_the_largest_version_number_is_looked_up(client: FlaskClient, rules_town: Town) -> None:
    rule = rules_town.rule(client, FEE)
    answer = client.post(f"/t/aalst/v1/rules/{rule['id']}/evaluate", json={"input": {}, "version": 2**31 - 1},
                         headers=rules_town.headers["admin"])
    assert_problem(answer, 404)


@pytest.mark.parametrize("number", [b"9223372036854775808", b"18446744073709551616", b"-9223372036854775809",
                                    b"1e300"])
def test_a_number_past_64_bits_anywhere_in_a_body_is_refused(
    client: FlaskClient, rules_town: Town, number: bytes
) -> None:
    before = _rule_count(client, rules_town)
    body = (b'{"kind": "fee", "service": "eid-card", "expression": "2000", "examples": [{"input": '
            b'{"request": {"n": ' + number + b'}}, "expected": 2000}]}')
    answer = client.post("/t/aalst/v1/rules", data=body, content_type="application/json",
                         headers=rules_town.headers["admin"])
    assert assert_problem(answer, 422)["errors"] == {"examples.0.input.request.n": [
        "Must be a number between -2^63 and 2^63-1."]}
    assert _rule_count(client, rules_town) == before


@pytest.mark.parametrize("body", [
    FEE | {"expression": "20\u000000"},
    FEE | {"reason": {"nl": "Niet\u0000 voor u"}},
    FEE | {"examples": [{"input": {"request\u0000": 1}, "expected": 2000}]},
])
def test_a_nul_character_in_a_body_is_refused_on_both_backends(
    client: FlaskClient, rules_town: Town, body: dict[str, object]
) -> None:
    before = _rule_count(client, rules_town)
    answer = client.post("/t/aalst/v1/rules", json=body, headers=rules_town.headers["admin"])
    errors = assert_problem(answer, 422)["errors"]
    assert any("NUL" in message for messages in errors.values() for message in messages), errors
    assert _rule_count(client, rules_town) == before


def test_a_nul_character_in_a_life_event_is_refused(client: FlaskClient, rules_town: Town) -> None:
    answer = rules_town.event(client, "evt-\u00001", "be.person.born", "jan")
    assert "id" in assert_problem(answer, 422)["errors"]
    assert rules_town.event(client, "evt-1", "be.person.born", "jan").status_code == 202


@pytest.mark.parametrize("query", ["limit=1&limit=500", "status=submitted&status=bogus", "status=sub%00mitted",
                                   "service=eid%00-card"])
def test_a_repeated_or_nul_query_parameter_is_a_bad_request(client: FlaskClient, rules_town: Town, query: str) -> None:
    answer = client.get(f"/t/aalst/v1/cases?{query}", headers=rules_town.headers["admin"])
    assert assert_problem(answer, 400)["code"] == "invalid_parameter"


@pytest.mark.parametrize(("method", "path"), [("PUT", "/t/aalst/v1/admin/services/eid%00-card"),
                                              ("GET", "/t/aalst/v1/rules/%00")])
def test_a_nul_character_in_a_path_names_nothing(client: FlaskClient, rules_town: Town, method: str, path: str) -> None:
    answer = client.open(path, method=method, json={"fee_cents": 100}, headers=rules_town.headers["admin"])
    assert_problem(answer, 404)


def test_one_value_per_parameter_is_still_read(client: FlaskClient, rules_town: Town) -> None:
    answer = client.get("/t/aalst/v1/cases?limit=1&status=submitted", headers=rules_town.headers["admin"])
    assert answer.status_code == 200


def test_a_nul_character_in_a_form_is_refused_before_any_query(client: FlaskClient) -> None:
    answer = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "a\u0000b",
                                               "client_secret": "x"})
    assert answer.status_code == 400
    assert data(answer)["error"] == "invalid_request"  # the OAuth endpoints answer in RFC 6749's shape


def test_a_long_request_target_and_large_headers_are_problems_of_the_app(client: FlaskClient) -> None:
    assert client.get("/livez?pad=" + "x" * 8000).status_code == 200
    assert assert_problem(client.get("/livez?pad=" + "x" * 8200), 414)["code"] == "uri_too_long"
    assert assert_problem(client.get("/livez", headers={"X-Pad": "x" * 10_000}), 431)["code"] == "headers_too_large"
    many = {f"X-Pad-{n}": "x" * 4000 for n in range(9)}
    assert assert_problem(client.get("/livez", headers=many), 431)["code"] == "headers_too_large"


def _serve_with_gunicorn(settings: Settings, port: int) -> subprocess.Popen[bytes]:
    env = os.environ | {"GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "1",
                        "TOWNHALL_INSTANCE_PATH": str(settings.instance_path),
                        "TOWNHALL_DATABASE_URL": settings.database_url,
                        "TOWNHALL_MIGRATION_DATABASE_URL": settings.migration_database_url,
                        "TOWNHALL_BASE_URL": f"http://127.0.0.1:{port}"}
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "gunicorn.conf.py"], cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/livez", timeout=1).status_code == 200:
                return server
        except (requests.ConnectionError, requests.Timeout):  # not listening, or the worker still booting
            time.sleep(0.2)
    server.terminate()
    raise AssertionError("gunicorn did not start")


def test_behind_gunicorn_too_long_a_request_is_answered_by_townhall(settings: Settings) -> None:
    port = free_port()
    server = _serve_with_gunicorn(settings, port)
    try:
        base = f"http://127.0.0.1:{port}/livez"
        assert requests.get(base + "?pad=" + "x" * 5000, timeout=5).status_code == 200  # gunicorn's 4 KiB default
        for answer, status in ((requests.get(base + "?pad=" + "x" * 10_000, timeout=5), 414),
                               (requests.get(base, headers={"X-Pad": "x" * 10_000}, timeout=5), 431)):
            assert answer.status_code == status
            assert answer.headers["Content-Type"] == "application/problem+json"
            assert answer.json()["status"] == status
    finally:
        server.terminate()
        server.wait(timeout=30)
