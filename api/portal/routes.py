"""GET /t/<tenant>/: the municipality's portal for citizens, its catalogue first: what it offers,
the fee, how long it takes, what to bring. Rendered from the same catalogue the API serves
(`townhall.services.queries.catalogue`), in the municipality's colours and the citizen's language."""

import secrets
from typing import Any

from flask import Blueprint, Response, g, render_template

from api.access import public
from api.console.texts import LANGUAGES
from api.console.web import SECURITY_HEADERS, language, language_links, remember_language
from api.database import session
from api.portal.texts import TEXTS
from api.tenant_api import resolve_tenant, tenant_cache
from townhall.localisation import pick
from townhall.services.queries import catalogue
from townhall.services.registry import SERVICE_TYPES

DEFAULT_LANGUAGE = "nl"  # a municipality whose languages the portal does not speak yet
portal = Blueprint("portal", __name__, url_prefix="/t/<slug:tenant>", template_folder="templates")
portal.url_value_preprocessor(resolve_tenant)


def offered() -> list[str]:
    """The municipality's languages the portal speaks (its default first when it has no other)."""
    return [code for code in g.tenant.languages if code in LANGUAGES] or [DEFAULT_LANGUAGE]


def page(template: str, status: int = 200, **values: Any) -> Response:
    """A portal page in the citizen's language (one of the municipality's), themed with its branding."""
    tenant, chosen = g.tenant, language(offered())
    branding: Any = tenant_cache().branding(session(), tenant.id)
    nonce = secrets.token_urlsafe(12)
    links = language_links(offered()) if len(offered()) > 1 else []
    html = render_template(f"portal/{template}", t=TEXTS[chosen], language=chosen, language_links=links,
                           municipality=pick(branding.display_name, [chosen, tenant.default_language])[1],
                           branding=branding, nonce=nonce, **values)
    response = Response(html, status=status, mimetype="text/html")
    response.headers.update(SECURITY_HEADERS)
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'self' 'nonce-{nonce}'; img-src 'self' data: https:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    response.headers["Content-Language"] = chosen
    remember_language(response, chosen)
    return response


@portal.get("/")
@public
def home() -> Response:
    chosen = language(offered())
    preferred = [chosen, g.tenant.default_language]
    services = []
    for entry in catalogue(session(), g.tenant.id):
        service = SERVICE_TYPES.get(entry.service)
        if service is None:
            continue
        services.append({
            "code": entry.service, "name": pick(entry.names or service.names, preferred)[1],
            "description": pick(entry.descriptions or service.descriptions, preferred)[1],
            "fee": f"€ {entry.fee_cents // 100},{entry.fee_cents % 100:02d}" if entry.fee_cents else None,
            "processing_days": entry.processing_days, "evidence": list(service.evidence),
            "channels": list(entry.channels)})
    services.sort(key=lambda found: str(found["name"]).casefold())
    return page("home.html", services=services)
