"""/t/<tenant>/admin/: the municipality's console. Signing in goes through the platform's own
authorization server (authorization code with PKCE, the console's own client); the code is redeemed
at the token endpoint in-process, and the browser keeps only the server-side session's id."""

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, g, request, send_from_directory, url_for

from api.access import public
from api.console.sign_in import ConsoleClient, begin_sign_in, finish_sign_in, sign_out_answer
from api.console.web import (
    console_page,
    page,
    refusal,
    signed_in,
    text,
)
from api.database import session
from api.errors import problem
from api.tenant_api import resolve_tenant
from townhall.auth.console_client import SCOPE, callback_url, console_client_id, ensure_console_client
from townhall.errors import Forbidden, NotFound, TownhallError

console = Blueprint("console", __name__, url_prefix="/t/<slug:tenant>/admin", template_folder="templates")
console.url_value_preprocessor(resolve_tenant)
assets = Blueprint("console_assets", __name__)
ASSETS = Path(__file__).parent / "static"


@console.url_defaults
def _current_tenant(_endpoint: str, values: dict[str, Any]) -> None:
    if "tenant" not in values and g.get("tenant") is not None:
        values["tenant"] = g.tenant.slug


@console.errorhandler(NotFound)
def _not_found(error: NotFound) -> Response:
    if g.get("tenant") is None:  # no such municipality: nobody's console to show it in
        return problem(404, error.detail, code=getattr(error, "code", "not_found"))
    return refusal(text()["not_found"], 404)


@console.errorhandler(Forbidden)
def _forbidden(error: Forbidden) -> Response:
    if g.get("tenant") is None:  # a suspended municipality
        return problem(403, error.detail, code=getattr(error, "code", "forbidden"))
    return refusal(text()["forbidden"], 403)


@assets.get("/assets/console/<path:name>")
@public
def asset(name: str) -> Response:
    """The console's own style sheet and script, and vendored libraries: never from elsewhere."""
    response = send_from_directory(ASSETS, name, max_age=3600)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def _client() -> ConsoleClient:
    base_url = current_app.config["TOWNHALL_SETTINGS"].base_url
    ensure_console_client(session(), g.tenant.id, g.tenant.slug, base_url)
    return ConsoleClient(console_client_id(g.tenant.slug), callback_url(base_url, g.tenant.slug), SCOPE,
                         f"/t/{g.tenant.slug}/admin")


@console.get("/sign-in")
@public  # starts the sign-in at the authorization server
def sign_in() -> Response:
    return begin_sign_in(_client(), request.args.get("next"))


@console.get("/callback")
@public  # the authorization server sends the person back here; the state binds it to the session
def callback() -> Response:
    return finish_sign_in(_client())


@console.post("/sign-out")
@console_page()
def sign_out() -> Response:
    return sign_out_answer(signed_in().row, url_for("console.signed_out"))


@console.get("/signed-out")
@public
def signed_out() -> Response:
    return page("signed_out.html")


@console.get("/")
@console_page()
def home() -> Response:
    return page("home.html")


def refused(error: TownhallError) -> dict[str, list[str]]:
    """A domain refusal as messages per form field ('' for the form as a whole)."""
    errors = getattr(error, "errors", None)
    return {field: list(messages) for field, messages in errors.items()} if errors else {"": [error.detail]}
