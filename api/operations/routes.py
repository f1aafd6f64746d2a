"""Health, readiness, the OpenAPI document and a docs page whose assets the app serves itself."""

from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, Response, current_app, jsonify, send_from_directory

from api.access import public
from api.errors import problem
from api.operations.checks import database_problem, redis_problem

operations = Blueprint("operations", __name__)
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
DOCS_SCRIPT = "SwaggerUIBundle({url: '/openapi.yaml', dom_id: '#api', deepLinking: true});\n"


@operations.get("/livez")
@public
def livez() -> Response:
    return jsonify(status="live")


@operations.get("/readyz")
@public
def readyz() -> Response:
    settings = current_app.config["TOWNHALL_SETTINGS"]
    failure = database_problem(current_app.config["TOWNHALL_MIGRATION_HEADS"]) or redis_problem(settings.redis_url)
    if failure:
        return problem(503, failure, code="not_ready", headers=[("Retry-After", "5")])
    return jsonify(status="ready")


@operations.get("/openapi.yaml")
@public
def openapi_document() -> Response:
    response = Response(current_app.config["TOWNHALL_OPENAPI"], mimetype="application/yaml")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@operations.get("/docs")
@public
def docs_page() -> Response:
    return Response(DOCS_PAGE, mimetype="text/html")


@operations.get("/docs/assets/<any('swagger-ui.css', 'swagger-ui-bundle.js', 'townhall-docs.js'):asset>")
@public
def docs_asset(asset: str) -> Response:
    if asset == "townhall-docs.js":
        return Response(DOCS_SCRIPT, mimetype="text/javascript")
    return send_from_directory(SWAGGER_ASSETS, asset, max_age=86_400)
