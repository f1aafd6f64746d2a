"""GET /: where a newcomer starts. Browsers get a small HTML page, API clients a JSON index (chosen
by `Accept`): the docs, the contract, the authorization server and each municipality's API."""

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from api.access import public
from api.database import session
from api.errors import problem
from api.settings import Settings
from tenants.queries import active_tenants

landing = Blueprint("landing", __name__, template_folder="templates")
# One page, one query: a consortium of thousands lists the first ones (the platform API has them all).
MAX_LISTED = 100
OFFERED = ("application/json", "text/html")
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
}


def index(settings: Settings) -> dict[str, Any]:
    tenants = active_tenants(session(), limit=MAX_LISTED + 1)
    base_url = settings.base_url
    return {
        "name": "Townhall",
        "links": {
            "docs": f"{base_url}/docs",
            "contract": f"{base_url}/openapi.yaml",
            "authorization_server": f"{base_url}/.well-known/oauth-authorization-server",
            "platform_api": settings.platform_api_url,
        },
        "municipalities": [
            {"slug": t.slug, "name": t.names.get(t.default_language, t.slug), "default_language": t.default_language,
             "api": settings.tenant_api_url(t.slug), "branding": f"{settings.tenant_api_url(t.slug)}/branding"}
            for t in tenants[:MAX_LISTED]
        ],
        "more_municipalities": len(tenants) > MAX_LISTED,
    }


@landing.get("/")
@public
def home() -> Response:
    accept = request.accept_mimetypes
    # No Accept, or */* (curl, most libraries): the JSON index. A browser names text/html first.
    chosen = accept.best_match(OFFERED) if accept else OFFERED[0]
    if chosen is None:
        return problem(406, "This page is offered as application/json or text/html.", code="not_acceptable")
    body = index(current_app.config["TOWNHALL_SETTINGS"])
    if chosen == "text/html":
        response = Response(render_template("landing/index.html", **body), mimetype="text/html")
        response.headers.update(PAGE_HEADERS)
    else:
        response = jsonify(body)
    response.vary.add("Accept")
    return response
