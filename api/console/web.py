"""What every console page shares: the server-side session behind a `__Host-` cookie, the person's
current access, CSRF on every form, the language, and rendering in the municipality's colours.

The browser holds a random session id, nothing else: no bearer token, no roles. Each request reads
the person's roles afresh, so a membership withdrawn takes effect at the next click.
"""

import hmac
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

from flask import Response, current_app, g, render_template, request, url_for

from api.access import ACCESS_ATTRIBUTE
from api.console.texts import LANGUAGES, TEXTS
from api.database import session
from api.tenant_api import tenant_cache
from tenants.models import DEFAULT_ACCENT, DEFAULT_PRIMARY
from townhall.auth.console_client import console_client_id
from townhall.auth.models import User, UserStatus
from townhall.auth.operations import AnyWebSession, end_web_session
from townhall.auth.principal import Principal
from townhall.auth.queries import Access, access_in_tenant, web_session
from townhall.localisation import pick

View = TypeVar("View", bound=Callable[..., Any])
LANGUAGE_COOKIE = "console_language"
NOTICES = ("saved", "unchanged", "assigned", "moved", "activated")
"""What a page may say after the form that led to it (`?done=`): a fixed list, nothing echoed."""
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
}


CONSORTIUM_COOKIE = "__Host-consortium-console"


def cookie_name(slug: str | None) -> str:
    """One cookie per console (a municipality's, or the consortium's: no slug): a person can work in
    two side by side. `__Host-`: only this host sets or reads it, over a secure channel (browsers
    count loopback as one)."""
    return f"__Host-console-{slug}" if slug else CONSORTIUM_COOKIE


def this_console() -> tuple[uuid.UUID | None, str | None]:
    """The municipality whose console this request is for (None, None: the consortium's)."""
    tenant = g.get("tenant")
    return (tenant.id, tenant.slug) if tenant is not None else (None, None)


@dataclass(frozen=True)
class Signed:
    """The person behind this request and what they may do here now (`access`: in the municipality
    of this console; the consortium console asks only whether they are an operator)."""

    row: AnyWebSession
    user: User
    access: Access


def signed_in() -> Signed:
    found: Signed = g.console
    return found


def session_row() -> AnyWebSession | None:
    tenant_id, slug = this_console()
    value = request.cookies.get(cookie_name(slug))
    if not value or len(value) > 100:
        return None
    return web_session(session(), tenant_id, value)


def language(offered: Sequence[str] = LANGUAGES) -> str:
    """The page's language among those `offered`: the one just chosen, the one remembered, or the
    browser's."""
    chosen = request.args.get("lang")
    if chosen is not None and chosen in offered:
        return chosen
    remembered = request.cookies.get(LANGUAGE_COOKIE)
    if remembered is not None and remembered in offered:
        return remembered
    tenant = g.get("tenant")
    default = tenant.default_language if tenant is not None and tenant.default_language in offered else offered[-1]
    return request.accept_languages.best_match(offered, default=default) or default


def text() -> dict[str, str]:
    return TEXTS[language()]


def safe_return(target: str | None, prefix: str) -> str:
    """Only a path inside this console (`prefix`) is a place to come back to (no open redirect)."""
    if target and target.startswith(prefix) and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return prefix + "/"


PLATFORM_THEME = {"primary_colour": DEFAULT_PRIMARY, "accent_colour": DEFAULT_ACCENT, "logo_url": None}


def page(template: str, status: int = 200, **values: Any) -> Response:
    """A console page in the person's language, themed with the municipality's branding (the
    consortium's console: the platform's own colours)."""
    tenant = g.get("tenant")
    chosen = language()
    if tenant is not None:
        branding: Any = tenant_cache().branding(session(), tenant.id)
        municipality = pick(branding.display_name, [chosen, tenant.default_language])[1]
    else:
        branding, municipality = PLATFORM_THEME, TEXTS[chosen]["consortium"]
    nonce = secrets.token_urlsafe(12)
    signed: Signed | None = g.get("console")
    done = request.args.get("done")
    values.setdefault("notice", TEXTS[chosen][done] if done in NOTICES else None)
    html = render_template(
        f"console/{template}", t=TEXTS[chosen], language=chosen, language_links=language_links(), tenant=tenant,
        municipality=municipality, branding=branding,
        signed=signed, csrf=signed.row.csrf if signed else "", nonce=nonce,
        scopes=signed.access.scopes if signed else frozenset(), **values)
    response = Response(html, status=status, mimetype="text/html")
    response.headers.update(SECURITY_HEADERS)
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'self' 'nonce-{nonce}'; script-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    response.headers["Content-Language"] = chosen
    remember_language(response, chosen)
    return response


def remember_language(response: Response, chosen: str) -> None:
    """A language just chosen (`?lang=`) is kept for the console's and the portal's next pages."""
    if request.args.get("lang") == chosen:
        response.set_cookie(LANGUAGE_COOKIE, chosen, max_age=365 * 86400, secure=True, httponly=True,
                            samesite="Lax", path="/")


def language_links(offered: Sequence[str] = LANGUAGES) -> list[tuple[str, str]]:
    """This page in each language: the same address, `lang` set (the choice is then remembered)."""
    kept = [(key, value) for key, value in request.args.items(multi=True) if key not in ("lang", "done")]
    return [(code, f"{request.path}?{urlencode([*kept, ('lang', code)])}") for code in offered]


def see_other(location: str) -> Response:
    """After a form or a sign-in step: the browser follows with GET (303)."""
    return Response(status=303, headers={"Location": location})


def refusal(message: str, status: int) -> Response:
    return page("error.html", status=status, message=message)


def csrf_ok(row: AnyWebSession) -> bool:
    sent = request.form.get("csrf", "")
    return bool(sent) and hmac.compare_digest(sent, row.csrf)


def _to_sign_in() -> Response:
    back = request.full_path if request.method == "GET" else request.path
    return see_other(url_for("console.sign_in", next=back.rstrip("?")))


def console_page(scope: str | None = None) -> Callable[[View], View]:
    """The page needs a signed-in person of this municipality (its staff, or a team it delegated
    to) holding `scope` by their current roles; every POST must carry the session's CSRF token."""

    def decorate(view: View) -> View:
        def guarded(*args: Any, **kwargs: Any) -> Any:
            row = session_row()
            if row is None or row.user_id is None:
                return _to_sign_in()
            user = session().get(User, row.user_id)
            if user is None or user.status is not UserStatus.ACTIVE:
                end_web_session(session(), row, current_app.config["TOWNHALL_SETTINGS"].access_token_lifetime)
                return _to_sign_in()
            access = access_in_tenant(session(), user.id, g.tenant.id)
            g.console = Signed(row, user, access)
            if not access.is_staff:
                return refusal(text()["not_staff"], 403)
            if scope is not None and scope not in access.scopes:
                return refusal(text()["forbidden"], 403)
            if request.method == "POST" and not csrf_ok(row):
                return refusal(text()["expired"], 400)
            g.principal = Principal("person", str(user.id), console_client_id(g.tenant.slug), g.tenant.slug,
                                    access.roles, access.scopes, access.delegated_services)
            return view(*args, **kwargs)

        guarded.__name__ = view.__name__
        guarded.__doc__ = view.__doc__
        setattr(guarded, ACCESS_ATTRIBUTE, f"console:{scope or 'staff'}")
        return guarded  # type: ignore[return-value]

    return decorate


def person_id() -> uuid.UUID:
    return signed_in().user.id
