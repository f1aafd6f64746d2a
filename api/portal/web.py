"""What every portal page shares: the citizen's server-side session behind a `__Host-` cookie of its
own (not the console's), CSRF on every form, the language among the municipality's, and rendering
in the municipality's colours. A signed-in page acts for the person as a citizen, whatever roles
they also hold here: the portal shows their own cases only."""

import hmac
import secrets
import uuid
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Response, current_app, g, render_template, request, url_for
from sqlalchemy import select

from api.access import ACCESS_ATTRIBUTE
from api.console.sign_in import ConsoleClient
from api.console.texts import LANGUAGES
from api.console.web import SECURITY_HEADERS, Signed, language, language_links, remember_language, see_other
from api.database import session
from api.portal.form_texts import status_words
from api.portal.texts import TEXTS
from api.tenant_api import tenant_cache
from townhall.appointments.models import Office
from townhall.appointments.queries import PUBLIC, office_zones, visits_for_case, zone_of
from townhall.auth.console_client import PORTAL_SCOPE, ensure_portal_client, portal_callback_url, portal_client_id
from townhall.auth.models import User, UserStatus
from townhall.auth.operations import AnyWebSession, end_web_session
from townhall.auth.principal import Principal, Viewer
from townhall.auth.queries import access_in_tenant, web_session
from townhall.cases.models import Case
from townhall.cases.queries import visible_case
from townhall.localisation import pick
from townhall.services.registry import SERVICE_TYPES

View = TypeVar("View", bound=Callable[..., Any])
DEFAULT_LANGUAGE = "nl"  # a municipality whose languages the portal does not speak yet


def cookie() -> str:
    return f"__Host-portal-{g.tenant.slug}"


def offered() -> list[str]:
    """The municipality's languages the portal speaks."""
    return [code for code in g.tenant.languages if code in LANGUAGES] or [DEFAULT_LANGUAGE]


def text() -> dict[str, str]:
    return TEXTS[language(offered())]


def page(template: str, status: int = 200, **values: Any) -> Response:
    """A portal page in the citizen's language (one of the municipality's), themed with its branding."""
    tenant, chosen = g.tenant, language(offered())
    branding: Any = tenant_cache().branding(session(), tenant.id)
    nonce = secrets.token_urlsafe(12)
    links = language_links(offered()) if len(offered()) > 1 else []
    signed: Signed | None = g.get("portal")
    html = render_template(f"portal/{template}", t=TEXTS[chosen], language=chosen, language_links=links,
                           municipality=pick(branding.display_name, [chosen, tenant.default_language])[1],
                           branding=branding, nonce=nonce, signed=signed, csrf=signed.row.csrf if signed else "",
                           status_label=lambda code: status_words(chosen, code), **values)
    response = Response(html, status=status, mimetype="text/html")
    response.headers.update(SECURITY_HEADERS)
    tiles = current_app.config["TOWNHALL_SETTINGS"].map_tiles_url
    tile_origin = f" {urlsplit(tiles).scheme}://{urlsplit(tiles).netloc}" if tiles else ""  # the map's tiles
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'self' 'nonce-{nonce}'; img-src 'self' data: https:{tile_origin}; "
        "script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    response.headers["Content-Language"] = chosen
    remember_language(response, chosen)
    return response


def refusal(message: str, status: int) -> Response:
    return page("error.html", status=status, message=message)


def portal_client() -> ConsoleClient:
    base_url = current_app.config["TOWNHALL_SETTINGS"].base_url
    ensure_portal_client(session(), g.tenant.id, g.tenant.slug, base_url)
    return ConsoleClient(portal_client_id(g.tenant.slug), portal_callback_url(base_url, g.tenant.slug), PORTAL_SCOPE,
                         f"/t/{g.tenant.slug}", cookie=cookie(), refuse=lambda: refusal(text()["sign_in_failed"], 400))


def _session_row() -> AnyWebSession | None:
    value = request.cookies.get(cookie())
    if not value or len(value) > 100:
        return None
    return web_session(session(), g.tenant.id, value)


def citizen_page(view: View) -> View:
    """The page needs a signed-in person; every POST must carry the session's CSRF token."""

    def guarded(*args: Any, **kwargs: Any) -> Any:
        row = _session_row()
        back = request.full_path if request.method == "GET" else request.path
        if row is None or row.user_id is None:
            return see_other(url_for("portal.sign_in", next=back.rstrip("?")))
        user = session().get(User, row.user_id)
        if user is None or user.status is not UserStatus.ACTIVE:
            end_web_session(session(), row, current_app.config["TOWNHALL_SETTINGS"].access_token_lifetime)
            return see_other(url_for("portal.sign_in", next=back.rstrip("?")))
        g.portal = Signed(row, user, access_in_tenant(session(), user.id, g.tenant.id))
        if request.method == "POST" and not hmac.compare_digest(request.form.get("csrf", ""), row.csrf or "-"):
            return refusal(text()["expired"], 400)
        # As a citizen: their own cases only, whatever roles they also hold here.
        g.principal = Principal("person", str(user.id), portal_client_id(g.tenant.slug), g.tenant.slug,
                                frozenset(), frozenset(PORTAL_SCOPE.split()), frozenset())
        return view(*args, **kwargs)

    guarded.__name__ = view.__name__
    guarded.__doc__ = view.__doc__
    setattr(guarded, ACCESS_ATTRIBUTE, "portal:citizen")
    return guarded  # type: ignore[return-value]


def signed_in() -> Signed:
    found: Signed = g.portal
    return found


def preferred() -> list[str]:
    """The page's language, then the municipality's: how texts of several languages are picked."""
    return [language(offered()), g.tenant.default_language]


def service_name(code: str) -> str:
    service = SERVICE_TYPES.get(code)
    return pick(service.names, preferred())[1] if service else code


def own_case(case_id: uuid.UUID) -> Case | None:
    """The signed-in person's own case here, or None (another's, another municipality's, none)."""
    return visible_case(session(), g.tenant.id, Viewer(citizen_id=signed_in().user.id), case_id)


def case_visits(case_id: uuid.UUID) -> list[dict[str, Any]]:
    """The visits booked for one of the person's cases, each in its office's own time."""
    found = visits_for_case(session(), g.tenant.id, Viewer(citizen_id=signed_in().user.id), case_id)
    zones = office_zones(session(), found)
    rows = session().execute(select(Office.id, Office.name).where(Office.id.in_([a.office_id for a in found]))
                             .execution_options(**PUBLIC)).all() if found else []
    names: dict[uuid.UUID, str] = {row[0]: row[1] for row in rows}
    return [{"id": a.id, "status": a.status, "office": names.get(a.office_id, ""), "at": a.starts_at.astimezone(
        zone_of(zones, a))} for a in found]
