"""First-time use: `make run PORT=…` hands out the URLs it serves, the docs page's Authorize button
gets a token through the demo's code-flow client, and `/` says where to start."""

import json
import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import yaml
from flask import Flask
from flask.testing import FlaskClient
from requests_oauthlib import OAuth2Session
from werkzeug.serving import make_server

from api.cli import cli
from api.settings import Settings
from support.contract import assert_problem
from support.oauth import csrf_of
from support.suite import ROOT, empty_all_tables
from tenants.demo_identity import PORTAL_REDIRECT
from tenants.models import Tenant


def seed(app: Flask, target: Path) -> dict[str, Any]:
    result = app.test_cli_runner().invoke(cli, ["demo", "seed", "--output", str(target)])
    assert result.exit_code == 0, result.output
    described: dict[str, Any] = json.loads(target.read_text())
    return described


def urls_in(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [url for value in node.values() for url in urls_in(value)]
    if isinstance(node, list):
        return [url for value in node for url in urls_in(value)]
    return [node] if isinstance(node, str) and "://" in node else []


def test_make_run_serves_seeds_and_works_on_the_port_asked_for() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("TOWNHALL_BASE_URL", "BASE_URL", "HOST", "PORT")}
    command = ["make", "-n", "run", "PORT=8103"]  # make from PATH, as a user runs it
    planned = subprocess.run(command, cwd=ROOT, env=env, capture_output=True,
                             text=True, check=True, timeout=60).stdout
    assert "TOWNHALL_BASE_URL=http://127.0.0.1:8103 .venv/bin/townhall demo seed" in planned
    assert "export TOWNHALL_BASE_URL=http://127.0.0.1:8103;" in planned  # the worker's and the server's
    assert "GUNICORN_BIND=127.0.0.1:8103 " in planned
    assert ":8000" not in planned
    behind = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                            env=env | {"TOWNHALL_BASE_URL": "https://townhall.example.org"}, check=True,
                            timeout=60).stdout
    assert "TOWNHALL_BASE_URL=https://townhall.example.org .venv/bin/townhall demo seed" in behind
    assert "GUNICORN_BIND=127.0.0.1:8103 " in behind


@pytest.mark.committed
def test_seeding_on_another_port_writes_that_port_everywhere(
    settings: Settings, make_app: Callable[[Settings], Flask], tmp_path: Path
) -> None:
    target = tmp_path / "demo.json"
    try:
        for base in ("http://127.0.0.1:8103", "http://127.0.0.1:8104"):  # the second run moves the demo
            described = seed(make_app(replace(settings, base_url=base)), target)
            assert described["base_url"] == base
            urls = [url for url in urls_in(described) if url != PORTAL_REDIRECT]  # the portal's own address
            assert urls and all(url == base or url.startswith(base + "/") for url in urls), urls
            docs = {c["tenant"]: c for c in described["clients"] if c["client_id"].endswith(".demo-docs")}
            assert set(docs) == {t["slug"] for t in described["tenants"]}
            assert docs["aalst"]["redirect_uris"] == [base + "/docs/oauth2-redirect.html"]
            assert "client_secret" not in docs["aalst"]
        assert "8103" not in target.read_text()
    finally:
        empty_all_tables(settings)


def test_the_served_contract_names_the_configured_base_url(
    settings: Settings, make_app: Callable[[Settings], Flask]
) -> None:
    base = "http://127.0.0.1:8103"
    served = yaml.safe_load(make_app(replace(settings, base_url=base)).test_client().get("/openapi.yaml").data)
    assert [server["url"] for server in served["servers"]] == [base]
    flows = served["components"]["securitySchemes"]["oauth2"]["flows"]
    assert flows["authorizationCode"]["authorizationUrl"] == base + "/oauth/authorize"
    assert {flows[f]["tokenUrl"] for f in flows} == {base + "/oauth/token"}
    assert flows["clientCredentials"]["scopes"]["platform:manage"]  # the rest of the contract is intact


def test_the_docs_page_is_set_up_for_the_code_flow_with_pkce(client: FlaskClient) -> None:
    script = client.get("/docs/assets/townhall-docs.js").get_data(as_text=True)
    assert '"oauth2RedirectUrl": "https://townhall.test/docs/oauth2-redirect.html"' in script
    assert '"clientId": "aalst.demo-docs"' in script and '"usePkceWithAuthorizationCodeGrant": true' in script
    page = client.get("/docs/oauth2-redirect.html")
    assert page.mimetype == "text/html" and '<script src="oauth2-redirect.js">' in page.get_data(as_text=True)
    redirect_script = client.get("/docs/oauth2-redirect.js")
    assert redirect_script.status_code == 200 and "swaggerUIRedirectOauth2" in redirect_script.get_data(as_text=True)
    for response in (page, redirect_script):
        response.close()


@dataclass(frozen=True)
class Demo:
    url: str
    described: dict[str, Any]


@pytest.fixture
def live_demo(settings: Settings, make_app: Callable[[Settings], Flask], tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[Demo]:
    """The seeded demo served on loopback, its base URL being the address really served."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # plain http on loopback, tests only
    apps: list[Flask] = []
    # The app is made once the port is known (its base URL is the address served).
    server = make_server("127.0.0.1", 0, lambda environ, start: apps[0](environ, start), threaded=True)  # noqa: PLW0108
    url = f"http://127.0.0.1:{server.port}"
    apps.append(make_app(replace(settings, base_url=url)))
    apps[0].config["SESSION_COOKIE_SECURE"] = False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Demo(url, seed(apps[0], tmp_path / "demo.json"))
    finally:
        server.shutdown()
        thread.join(timeout=10)
        empty_all_tables(settings)


@pytest.mark.committed
def test_the_docs_client_of_the_demo_gets_a_token_through_the_redirect_page(live_demo: Demo) -> None:
    (docs,) = [c for c in live_demo.described["clients"] if c["client_id"] == "aalst.demo-docs"]
    (admin,) = [u for u in live_demo.described["users"] if u["email"] == "admin.aalst@demo.example"]
    redirect_uri = live_demo.url + "/docs/oauth2-redirect.html"
    assert docs["redirect_uris"] == [redirect_uri]
    contract = yaml.safe_load(requests.get(live_demo.url + "/openapi.yaml", timeout=10).text)
    flow = contract["components"]["securitySchemes"]["oauth2"]["flows"]["authorizationCode"]

    session = OAuth2Session(docs["client_id"], redirect_uri=redirect_uri, scope=["catalog:read", "cases:read"],
                            pkce="S256")
    url, state = session.authorization_url(flow["authorizationUrl"])
    browser = requests.Session()
    page = browser.get(url, timeout=10)
    assert page.status_code == 200, page.text
    signed_in = browser.post(url, data={"action": "login", "csrf": csrf_of(page.text), "email": admin["email"],
                                        "password": admin["password"]}, allow_redirects=False, timeout=10)
    assert signed_in.status_code == 303, signed_in.text
    consent = browser.get(live_demo.url + signed_in.headers["Location"], timeout=10)
    decided = browser.post(url, data={"action": "consent", "decision": "allow", "csrf": csrf_of(consent.text)},
                           allow_redirects=False, timeout=10)
    callback = decided.headers["Location"]
    assert callback.startswith(redirect_uri + "?") and state in callback
    landed = browser.get(callback, timeout=10)  # the page that hands the code to the docs page
    assert landed.status_code == 200 and "oauth2-redirect.js" in landed.text

    token = session.fetch_token(flow["tokenUrl"], authorization_response=callback, include_client_id=True,
                                timeout=10)
    assert set(token["scope"]) == {"catalog:read", "cases:read"}
    assert session.get(live_demo.url + "/t/aalst/v1/cases", timeout=10).status_code == 200
    assert urlsplit(flow["tokenUrl"]).netloc == urlsplit(live_demo.url).netloc


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_the_landing_page_is_a_json_index_for_api_clients(
    client: FlaskClient, make_tenant: Callable[..., Tenant]
) -> None:
    make_tenant("aalst", "41002", names={"nl": "Aalst", "fr": "Alost"})
    for headers in ({}, {"Accept": "*/*"}, {"Accept": "application/json"}):
        response = client.get("/", headers=headers)
        assert response.status_code == 200 and response.mimetype == "application/json", headers
        assert "Accept" in response.headers["Vary"]
        index = response.json
        assert index is not None
        assert index["links"]["docs"] == "https://townhall.test/docs"
        assert index["links"]["contract"] == "https://townhall.test/openapi.yaml"
        (aalst,) = [m for m in index["municipalities"] if m["slug"] == "aalst"]
        assert aalst == {"slug": "aalst", "name": "Aalst", "default_language": "nl",
                         "api": "https://townhall.test/t/aalst/v1",
                         "branding": "https://townhall.test/t/aalst/v1/branding"}


def test_the_landing_page_is_html_for_browsers(client: FlaskClient, make_tenant: Callable[..., Tenant]) -> None:
    make_tenant("aalst", "41002", names={"nl": "Aalst <Stad>", "fr": "Alost"})
    response = client.get("/", headers={"Accept": BROWSER})
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert '<html lang="en">' in page and "<h1>" in page
    assert 'href="https://townhall.test/docs"' in page and 'href="https://townhall.test/openapi.yaml"' in page
    assert 'href="https://townhall.test/t/aalst/v1/branding"' in page
    assert "Aalst &lt;Stad&gt;" in page  # escaped
    assert "<script" not in page and "src=" not in page  # no external assets, no scripts
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_the_landing_page_refuses_what_it_cannot_offer(client: FlaskClient) -> None:
    body = assert_problem(client.get("/", headers={"Accept": "application/xml"}), 406)
    assert "text/html" in body["detail"]
    assert client.post("/").status_code == 405
