"""Health, readiness, the served contract and docs, request ids and structured logs."""

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

from api.settings import Settings
from support.contract import assert_problem
from support.suite import REDIS_URL, ROOT, json_lines
from tenants.models import Tenant


def test_livez_and_readyz(client: FlaskClient) -> None:
    assert client.get("/livez").json == {"status": "live"}
    assert client.get("/readyz").json == {"status": "ready", "rate_limits": "off"}  # the suite turns them off


def test_readyz_is_503_when_migrations_are_missing(
    settings: Settings, tmp_path: Path, make_app: Callable[[Settings], Flask]
) -> None:
    fresh = replace(settings, database_url=f"sqlite:///{tmp_path}/unmigrated.db",
                    migration_database_url=f"sqlite:///{tmp_path}/unmigrated.db")
    response = make_app(fresh).test_client().get("/readyz")
    body = assert_problem(response, 503)
    assert "townhall db upgrade" in body["detail"]


def test_readyz_checks_redis_when_configured(settings: Settings, make_app: Callable[[Settings], Flask]) -> None:
    down = make_app(replace(settings, redis_url="redis://127.0.0.1:9/0")).test_client()
    assert assert_problem(down.get("/readyz"), 503)["detail"] == "Redis is unreachable."


@pytest.mark.redis
def test_readyz_is_ready_with_a_live_redis(settings: Settings, make_app: Callable[[Settings], Flask]) -> None:
    up = make_app(replace(settings, redis_url=REDIS_URL)).test_client()
    assert up.get("/readyz").json == {"status": "ready", "rate_limits": "off"}


def test_the_contract_is_served(client: FlaskClient) -> None:
    response = client.get("/openapi.yaml")
    assert response.mimetype == "application/yaml"
    served, written = yaml.safe_load(response.data), yaml.safe_load((ROOT / "openapi.yaml").read_text())
    # As written, but for the installation's own base URL (tests/api/test_first_run.py checks those parts).
    for document in (served, written):
        del document["servers"], document["components"]["securitySchemes"]["oauth2"]["flows"]
    assert served == written


def test_the_docs_page_loads_its_assets_from_the_app_itself(client: FlaskClient) -> None:
    page = client.get("/docs").get_data(as_text=True)
    assert "http" not in page  # no CDN: every asset is a path on this server
    for asset in ("/docs/assets/swagger-ui.css", "/docs/assets/swagger-ui-bundle.js",
                  "/docs/assets/townhall-docs.js"):
        assert asset in page
        response = client.get(asset)
        assert response.status_code == 200 and len(response.get_data()) > 20, asset
        response.close()
    assert client.get("/docs/assets/../../setup.cfg").status_code == 404
    assert client.get("/docs/assets/index.html").status_code == 404


def test_request_id_is_honoured_or_generated(client: FlaskClient) -> None:
    assert client.get("/livez", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    generated = client.get("/livez", headers={"X-Request-ID": "bad id with spaces"}).headers["X-Request-ID"]
    assert generated and " " not in generated


def test_logs_are_json_with_request_facts_and_no_secrets_or_personal_data(
    client: FlaskClient, capsys: pytest.CaptureFixture[str], make_tenant: Callable[..., Tenant]
) -> None:
    make_tenant("aalst", "41002")
    capsys.readouterr()
    client.get("/t/aalst/v1/branding?access_token=tok-SECRET&email=jan.peeters@example.org",
               headers={"Authorization": "Bearer tok-SECRET", "X-Request-ID": "req-42",
                        "Cookie": "session=jan.peeters"})
    err = capsys.readouterr().err
    entry = next(e for e in json_lines(err) if e.get("request_id") == "req-42")
    assert entry["tenant"] == "aalst" and entry["route"] == "/t/<slug:tenant>/v1/branding"
    assert entry["method"] == "GET" and isinstance(entry["duration_ms"], float)
    for secret in ("tok-SECRET", "jan.peeters", "Bearer"):
        assert secret not in err


def test_security_headers(client: FlaskClient) -> None:
    response = client.get("/livez")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
