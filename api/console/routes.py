"""/t/<tenant>/admin/: the municipality's console. Signing in goes through the platform's own
authorization server (authorization code with PKCE, the console's own client); the code is redeemed
at the token endpoint in-process, and the browser keeps only the server-side session's id."""

import base64
import hashlib
import hmac
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, g, request, send_from_directory, url_for
from flask import session as authorization_session
from joserfc import jwt
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from api.access import public
from api.console.web import (
    console_page,
    cookie_name,
    language,
    page,
    refusal,
    safe_return,
    see_other,
    signed_in,
    text,
)
from api.database import session
from api.errors import problem
from api.oauth.keyring import Keyring
from api.tenant_api import resolve_tenant
from townhall.auth.console_client import SCOPE, callback_url, console_client_id, ensure_console_client
from townhall.auth.operations import (
    PENDING_SIGN_IN,
    WEB_SESSION_LIFETIME,
    end_web_session,
    purge_web_sessions,
    sign_in_web_session,
    start_web_session,
)
from townhall.auth.queries import web_session
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


def _settings() -> Any:
    return current_app.config["TOWNHALL_SETTINGS"]


def _set_cookie(response: Response, value: str, seconds: int) -> Response:
    response.set_cookie(cookie_name(g.tenant.slug), value, max_age=seconds, secure=True, httponly=True,
                        samesite="Lax", path="/")
    return response


@console.get("/sign-in")
@public  # starts the sign-in at the authorization server
def sign_in() -> Response:
    base_url = _settings().base_url
    slug = g.tenant.slug
    purge_web_sessions(session(), g.tenant.id)
    ensure_console_client(session(), g.tenant.id, slug, base_url)
    session_id, pending = start_web_session(session(), g.tenant.id, safe_return(request.args.get("next"), slug))
    assert pending.verifier is not None and pending.state is not None  # a pending session has both
    challenge = base64.urlsafe_b64encode(hashlib.sha256(pending.verifier.encode()).digest()).rstrip(b"=").decode()
    query = urlencode({"response_type": "code", "client_id": console_client_id(slug),
                       "redirect_uri": callback_url(base_url, slug), "scope": SCOPE, "state": pending.state,
                       "code_challenge": challenge, "code_challenge_method": "S256", "ui_locales": language()})
    response = see_other(f"{base_url}/oauth/authorize?{query}")
    return _set_cookie(response, session_id, int(PENDING_SIGN_IN.total_seconds()))


def _redeem(code: str, verifier: str) -> dict[str, Any] | None:
    """The token endpoint's answer to this code, asked in-process: the same grant, PKCE and
    redirect-URI checks as for any client, without a request over the network to ourselves."""
    base_url = _settings().base_url
    environ = EnvironBuilder(path="/oauth/token", base_url=base_url, method="POST", data={
        "grant_type": "authorization_code", "code": code, "code_verifier": verifier,
        "client_id": console_client_id(g.tenant.slug), "redirect_uri": callback_url(base_url, g.tenant.slug),
    }).get_environ()
    answer = current_app.extensions["townhall.oauth"].create_token_response(Request(environ))
    if answer.status_code != 200:
        return None
    keyring: Keyring = current_app.extensions["townhall.keyring"]
    claims: dict[str, Any] = jwt.decode(answer.get_json()["access_token"], keyring.public_keys(session())).claims
    return claims


@console.get("/callback")
@public  # the authorization server sends the person back here; the state binds it to the session
def callback() -> Response:
    value = request.cookies.get(cookie_name(g.tenant.slug), "")
    pending = web_session(session(), g.tenant.id, value) if 0 < len(value) <= 100 else None
    state, code = request.args.get("state", ""), request.args.get("code", "")
    if (pending is None or pending.state is None or pending.verifier is None
            or not hmac.compare_digest(state, pending.state) or request.args.get("iss") != _settings().base_url
            or not code or len(code) > 200):
        return refusal(text()["sign_in_failed"], 400)
    claims = _redeem(code, pending.verifier)
    if claims is None:
        return refusal(text()["sign_in_failed"], 400)
    back = pending.return_to or url_for("console.home")
    session_id, _ = sign_in_web_session(session(), pending, uuid.UUID(claims["sub"]), uuid.UUID(claims["grant_id"]))
    return _set_cookie(see_other(back), session_id, int(WEB_SESSION_LIFETIME.total_seconds()))


@console.post("/sign-out")
@console_page()
def sign_out() -> Response:
    """The session ends, its grant is revoked, and the authorization server forgets the sign-in."""
    end_web_session(session(), signed_in().row, _settings().access_token_lifetime)
    authorization_session.clear()
    response = see_other(url_for("console.signed_out"))
    response.delete_cookie(cookie_name(g.tenant.slug), path="/", secure=True, httponly=True, samesite="Lax")
    return response


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
