"""Health, readiness, the OpenAPI document and a docs page whose assets the app serves itself."""

import json
from pathlib import Path
from typing import Any

import flask_swagger_ui
import yaml
from flask import Blueprint, Flask, Response, current_app, jsonify, send_from_directory

from api.access import public
from api.errors import problem
from api.health.checks import database_problem, redis_problem
from api.rate_limits import describe
from api.settings import Settings
from tenants.demo import DEMO_TENANTS
from tenants.demo_identity import DOCS_REDIRECT_PATH, docs_client_id

health = Blueprint("health", __name__)
# Swagger UI 5 (renders OpenAPI 3.1) ships inside this package: no CDN, closed networks work.
SWAGGER_ASSETS = Path(flask_swagger_ui.__file__).parent / "dist"
DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Townhall API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="api"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/townhall-docs.js"></script>
</body>
</html>
"""
# Scopes ticked in the Authorize dialog: ones every demo person (admin, case worker, citizen) may grant.
DOCS_SCOPES = ["catalog:read", "cases:read"]


def docs_script(settings: Settings) -> str:
    # The redirect page must be named: Swagger UI would guess /oauth2-redirect.html, next to /docs.
    config = {"url": "/openapi.yaml", "dom_id": "#api", "deepLinking": True,
              "oauth2RedirectUrl": settings.base_url + DOCS_REDIRECT_PATH}
    oauth: dict[str, Any] = {"usePkceWithAuthorizationCodeGrant": True, "scopes": DOCS_SCOPES, "scopeSeparator": " "}
    if settings.environment != "production":
        # The demo's public code-flow client of its first municipality (`<slug>.demo-docs` for the others).
        oauth["clientId"] = docs_client_id(DEMO_TENANTS[0]["tenant"]["slug"])
    return f"const ui = SwaggerUIBundle({json.dumps(config)});\nui.initOAuth({json.dumps(oauth)});\n"


def served_contract(document: bytes, base_url: str) -> bytes:
    """openapi.yaml as this installation serves it: `servers` is its base URL and the OAuth flows
    name its absolute endpoints, so clients and the docs page call the host and port really served."""
    contract: dict[str, Any] = yaml.load(document, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506  (a safe loader)
    contract["servers"] = [{"url": base_url, "description": "This installation (TOWNHALL_BASE_URL)"}]
    for scheme in contract.get("components", {}).get("securitySchemes", {}).values():
        for flow in scheme.get("flows", {}).values():
            for key in ("authorizationUrl", "tokenUrl", "refreshUrl"):
                if str(flow.get(key, "")).startswith("/"):
                    flow[key] = base_url + flow[key]
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    dumped: bytes = yaml.dump(contract, Dumper=dumper, sort_keys=False, allow_unicode=True, width=120,
                              encoding="utf-8")
    return dumped


def contract_of(app: Flask) -> bytes:
    # Made on first request (the whole contract is parsed and written once), then kept.
    served: bytes | None = app.extensions.get("townhall.served_contract")
    if served is None:
        served = served_contract(app.config["TOWNHALL_OPENAPI"], app.config["TOWNHALL_SETTINGS"].base_url)
        app.extensions["townhall.served_contract"] = served
    return served


@health.get("/livez")
@public
def livez() -> Response:
    return jsonify(status="live")


@health.get("/readyz")
@public
def readyz() -> Response:
    settings = current_app.config["TOWNHALL_SETTINGS"]
    failure = database_problem(current_app.config["TOWNHALL_MIGRATION_HEADS"]) or redis_problem(settings.redis_url)
    if failure:
        return problem(503, failure, code="not_ready", headers=[("Retry-After", "5")])
    return jsonify(status="ready", **describe(current_app))


@health.get("/openapi.yaml")
@public
def openapi_document() -> Response:
    response = Response(contract_of(current_app), mimetype="application/yaml")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@health.get("/docs")
@public
def docs_page() -> Response:
    return Response(DOCS_PAGE, mimetype="text/html")


@health.get("/docs/assets/<any('swagger-ui.css', 'swagger-ui-bundle.js', 'townhall-docs.js'):asset>")
@public
def docs_asset(asset: str) -> Response:
    if asset == "townhall-docs.js":
        return Response(docs_script(current_app.config["TOWNHALL_SETTINGS"]), mimetype="text/javascript")
    return send_from_directory(SWAGGER_ASSETS, asset, max_age=86_400)


# DOCS_REDIRECT_PATH, and the script it loads beside it.
@health.get("/docs/<any('oauth2-redirect.html', 'oauth2-redirect.js'):page>")
@public
def docs_oauth_redirect(page: str) -> Response:
    """Swagger UI's own OAuth 2.0 redirect page (and its script): it hands the code in the query back
    to the docs page that opened the Authorize popup, which then exchanges it with PKCE."""
    return send_from_directory(SWAGGER_ASSETS, page, max_age=86_400)
