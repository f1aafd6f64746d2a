"""/oauth/authorize: sign in, consent, and the redirect back with a code (RFC 6749 §4.1, PKCE S256).

The request is validated (client, exact redirect URI, PKCE, scopes) before anything is shown, so the
pages never serve a client that is not what it claims. Errors that cannot be sent back safely to a
validated redirect URI are shown here instead of redirecting (no open redirect).
"""

import hmac
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from authlib.common.urls import add_params_to_uri
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from flask import Response, current_app, g, request
from flask import session as browser

from api.access import public
from api.database import session
from api.oauth.clients import Client
from api.oauth.grant_types import Person, person_in
from api.oauth.pages import TEXT, render, scope_lines
from api.oauth.routes import oauth
from api.tenant_api import tenant_cache
from townhall.auth.console_client import is_platform_front_end
from townhall.auth.models import User, UserStatus
from townhall.auth.passwords import verify_password
from townhall.auth.queries import user_by_email
from townhall.localisation import LANGUAGES


def _server() -> AuthorizationServer:
    server: AuthorizationServer = current_app.extensions["townhall.oauth"]
    return server


def _language(client: Client | None) -> str:
    tenant = client.tenant if client else None
    offered = list(tenant.languages) if tenant else list(LANGUAGES)
    default = tenant.default_language if tenant else "en"
    wanted = [tag for tag in request.args.get("ui_locales", "").split() if tag in offered]
    return wanted[0] if wanted else request.accept_languages.best_match(offered, default=default) or default


def _page(kind: str, client: Client | None, status: int = 200, **values: object) -> Response:
    tenant = client.tenant if client else None
    branding = tenant_cache().branding(session(), tenant.id) if tenant else None
    return render(kind, _language(client), tenant, branding, status, **values)


def _signed_in() -> User | None:
    user_id = browser.get("uid")
    if not user_id:
        return None
    user = session().get(User, uuid.UUID(user_id))
    if user is None or user.status is not UserStatus.ACTIVE:
        browser.clear()
        return None
    g.auth_time = datetime.fromtimestamp(browser.get("auth_time", 0), UTC)
    return user


def _csrf() -> str:
    if "csrf" not in browser:
        browser["csrf"] = secrets.token_urlsafe(24)
    token: str = browser["csrf"]
    return token


def _csrf_ok() -> bool:
    sent = request.form.get("csrf", "")
    return bool(sent) and hmac.compare_digest(sent, browser.get("csrf", ""))


def _validated(person: Person | None) -> tuple[Any, Response | None]:
    """The consent grant for this request, or the answer to give instead."""
    try:
        return _server().get_consent_grant(end_user=person), None
    except ValueError:
        # Authlib refuses to echo unprintable input in an error description: the request is garbage.
        return None, _page("error", None, status=400, message="The request is malformed.")
    except OAuth2Error as error:
        if getattr(error, "redirect_uri", None):  # the redirect URI was validated: tell the client
            return None, _to_client(_server().handle_error_response(request, error))
        return None, _page("error", None, status=400, message=error.description or error.error)


def _to_client(response: Response) -> Response:
    """An authorization response sent back to the client's redirect URI. It names the issuer, errors
    included (RFC 9207: a client talking to several servers tells which one answered); after a form
    post the browser must follow with GET: 303, never 307 (RFC 9700)."""
    location = response.headers.get("Location")
    if location:
        issuer: str = current_app.config["TOWNHALL_SETTINGS"].base_url
        response.headers["Location"] = add_params_to_uri(location, {"iss": issuer})
    if request.method == "POST" and response.status_code in (302, 307):
        response.status_code = 303
    return response


def _sign_in(client: Client) -> Response:
    found = user_by_email(session(), request.form.get("email", ""))
    password = request.form.get("password", "")
    if found is None or found.status is not UserStatus.ACTIVE or not verify_password(found.password_hash, password):
        return _page("login", client, status=401, csrf=_csrf(), message=TEXT[_language(client)]["wrong"])
    browser.clear()  # a new session for a new sign-in (no fixation)
    browser["uid"] = str(found.id)
    browser["auth_time"] = int(datetime.now(UTC).timestamp())
    return Response(status=303, headers={"Location": request.full_path})  # back to the request, signed in


def _consent(client: Client, user: User) -> Response:
    person = person_in(user, client)
    grant, answer = _validated(person)
    if answer is not None:
        return answer
    if is_platform_front_end(client.get_client_id(), client.tenant.slug if client.tenant else None):
        # The platform's own console or portal: the person came to sign in to it; nothing to consent to.
        return _to_client(_server().create_authorization_response(grant=grant, grant_user=person))
    if request.method == "POST" and request.form.get("action") == "consent":
        allowed = request.form.get("decision") == "allow"
        return _to_client(_server().create_authorization_response(grant=grant, grant_user=person if allowed else None))
    text = TEXT[_language(client)]
    return _page("consent", client, csrf=_csrf(), scopes=scope_lines(grant.request.scope or ""),
                 signed_in_as=text["signed_in_as"].format(name=user.display_name),
                 asks=text["asks"].format(client=client.row.name))


@oauth.route("/oauth/authorize", methods=["GET", "POST"])
@public  # the person signs in here; the client is validated first
def authorize() -> Response:
    grant, answer = _validated(None)
    if answer is not None:
        return answer
    client: Client = grant.client
    if request.method == "POST" and not _csrf_ok():
        return _page("error", client, status=400, message=TEXT[_language(client)]["expired"])
    if request.method == "POST" and request.form.get("action") == "login":
        return _sign_in(client)
    user = _signed_in()
    if user is None:
        return _page("login", client, csrf=_csrf())
    return _consent(client, user)
