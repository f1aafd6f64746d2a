"""GET /t/<tenant>/v1/branding: public, localised, cacheable."""

from typing import Any

from flask import Response, current_app, g, request

from api.access import public
from api.branding.schemas import BrandingOut
from api.database import session
from api.http import cacheable_json
from api.tenant_api import tenant_api, tenant_cache
from townhall.localisation import pick

_schema = BrandingOut()


@tenant_api.get("/branding")
@public
def get_branding() -> Response:
    tenant = g.tenant
    branding = tenant_cache().branding(session(), tenant.id)
    wanted = request.accept_languages.best_match(tenant.languages, default=tenant.default_language)
    preferred = [wanted, tenant.default_language]
    language, display_name = pick(branding.display_name, preferred)
    body: dict[str, Any] = _schema.dump({
        "tenant": tenant.slug,
        "language": language,
        "display_name": display_name,
        "name": pick(tenant.names, preferred)[1],
        "logo_url": branding.logo_url,
        "colours": {"primary": branding.primary_colour, "accent": branding.accent_colour},
        "contact": {"email": branding.contact_email, "phone": branding.phone, "website": branding.website},
        "privacy_url": branding.privacy_url,
        "languages": tenant.languages,
        "default_language": tenant.default_language,
        "time_zone": tenant.time_zone,
    })
    response = cacheable_json(body, max_age=current_app.config["TOWNHALL_SETTINGS"].public_cache_seconds,
                              vary="Accept-Language")
    response.headers["Content-Language"] = language
    return response
