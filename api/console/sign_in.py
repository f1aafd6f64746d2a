"""Signing in to a console through the platform's own authorization server (authorization code
with PKCE, the console's own client), the code redeemed at the token endpoint in-process, and
signing out. Shared by each municipality's console and the consortium's (ADR 0012)."""

import base64
import hashlib
import hmac
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import Response, current_app, request
from flask import session as authorization_session
from joserfc import jwt
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from api.console.web import cookie_name, language, refusal, safe_return, see_other, text, this_console
from api.database import session
from api.oauth.keyring import Keyring
from townhall.auth.operations import (
    PENDING_SIGN_IN,
    WEB_SESSION_LIFETIME,
    AnyWebSession,
    end_web_session,
    purge_web_sessions,
    sign_in_web_session,
    start_web_session,
)
from townhall.auth.queries import web_session


@dataclass(frozen=True)
class ConsoleClient:
    """A front-end of the platform's own that people sign in to: a console, or a portal."""

    client_id: str
    callback: str
    scope: str
    home: str  # the front-end's path: where a sign-in may send the person back to
    cookie: str | None = None  # the browser's session cookie (None: this console's)
    refuse: Callable[[], Response] | None = None  # the page of a failed sign-in (None: the console's)

    @property
    def cookie_name(self) -> str:
        return self.cookie or cookie_name(this_console()[1])

    def refused(self) -> Response:
        return self.refuse() if self.refuse is not None else refusal(text()["sign_in_failed"], 400)


def _settings() -> Any:
    return current_app.config["TOWNHALL_SETTINGS"]


def _with_cookie(response: Response, name: str, value: str, seconds: int) -> Response:
    response.set_cookie(name, value, max_age=seconds, secure=True, httponly=True, samesite="Lax", path="/")
    return response


def begin_sign_in(client: ConsoleClient, back: str | None) -> Response:
    """A pending session, and the person sent to the authorization server."""
    tenant_id, _ = this_console()
    purge_web_sessions(session(), tenant_id)
    session_id, pending = start_web_session(session(), tenant_id, safe_return(back, client.home))
    assert pending.verifier is not None and pending.state is not None  # a pending session has both
    challenge = base64.urlsafe_b64encode(hashlib.sha256(pending.verifier.encode()).digest()).rstrip(b"=").decode()
    query = urlencode({"response_type": "code", "client_id": client.client_id, "redirect_uri": client.callback,
                       "scope": client.scope, "state": pending.state, "code_challenge": challenge,
                       "code_challenge_method": "S256", "ui_locales": language()})
    response = see_other(f"{_settings().base_url}/oauth/authorize?{query}")
    return _with_cookie(response, client.cookie_name, session_id, int(PENDING_SIGN_IN.total_seconds()))


def _redeem(client: ConsoleClient, code: str, verifier: str) -> dict[str, Any] | None:
    """The token endpoint's answer to this code, asked in-process: the same grant, PKCE and
    redirect-URI checks as for any client, without a request over the network to ourselves."""
    environ = EnvironBuilder(path="/oauth/token", base_url=_settings().base_url, method="POST", data={
        "grant_type": "authorization_code", "code": code, "code_verifier": verifier,
        "client_id": client.client_id, "redirect_uri": client.callback,
    }).get_environ()
    answer = current_app.extensions["townhall.oauth"].create_token_response(Request(environ))
    if answer.status_code != 200:
        return None
    keyring: Keyring = current_app.extensions["townhall.keyring"]
    claims: dict[str, Any] = jwt.decode(answer.get_json()["access_token"], keyring.public_keys(session())).claims
    return claims


def finish_sign_in(client: ConsoleClient) -> Response:
    """Back from the authorization server: the state must be this browser's, the issuer ours."""
    tenant_id, _ = this_console()
    value = request.cookies.get(client.cookie_name, "")
    pending = web_session(session(), tenant_id, value) if 0 < len(value) <= 100 else None
    state, code = request.args.get("state", ""), request.args.get("code", "")
    if (pending is None or pending.state is None or pending.verifier is None
            or not hmac.compare_digest(state, pending.state) or request.args.get("iss") != _settings().base_url
            or not code or len(code) > 200):
        return client.refused()
    claims = _redeem(client, code, pending.verifier)
    if claims is None:
        return client.refused()
    back = pending.return_to or client.home + "/"
    session_id, _ = sign_in_web_session(session(), pending, uuid.UUID(claims["sub"]), uuid.UUID(claims["grant_id"]))
    return _with_cookie(see_other(back), client.cookie_name, session_id, int(WEB_SESSION_LIFETIME.total_seconds()))


def sign_out_answer(row: AnyWebSession, signed_out: str, cookie: str | None = None) -> Response:
    """The session ends, its grant is revoked, and the authorization server forgets the sign-in."""
    end_web_session(session(), row, _settings().access_token_lifetime)
    authorization_session.clear()
    response = see_other(signed_out)
    response.delete_cookie(cookie or cookie_name(this_console()[1]), path="/", secure=True, httponly=True,
                           samesite="Lax")
    return response
