"""GET /t/<tenant>/v1/branding (public, localised, cacheable) and /t/<tenant>/v1/admin/branding
(`config:write`: every language, GET, PUT and PATCH with the branding's version as ETag)."""

from typing import Any

from flask import Response, current_app, g, request, url_for
from werkzeug.exceptions import NotFound as NoSuchFile
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType

from api.access import public
from api.branding.schemas import BrandingOut
from api.database import session
from api.errors import http_error
from api.http import cacheable_json, json_object, patched, require_if_match, version_etag, versioned
from api.oauth.protect import requires
from api.principal import principal
from api.tenant_api import tenant_api, tenant_cache
from tenants.models import Tenant, TenantBranding
from tenants.operations import LOGO_TYPES, branding_settings, configure_branding, logo_key, set_logo
from tenants.queries import branding_of, require_tenant
from townhall.localisation import pick
from townhall.storage import sniff

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


def _configured() -> tuple[Tenant, TenantBranding]:
    tenant = require_tenant(session(), g.tenant.slug)
    return tenant, branding_of(session(), tenant.id)


def _admin_view(tenant: Tenant, branding: TenantBranding) -> Response:
    body = branding_settings(tenant, branding) | {"updated_at": branding.updated_at.isoformat()}
    return versioned(body, branding.version)


def _replace(tenant: Tenant, branding: TenantBranding, settings: dict[str, Any]) -> Response:
    if configure_branding(session(), tenant, branding, settings, principal().actor):
        tenant_cache().forget(tenant.slug)  # this process at once; the others hear it (ADR 0010)
    return _admin_view(tenant, branding)


@tenant_api.get("/admin/branding")
@requires("config:write")
def get_branding_settings() -> Response:
    """The branding, names, languages and time zone as the admins set them, every language shown."""
    return _admin_view(*_configured())


@tenant_api.put("/admin/branding")
@requires("config:write")
def replace_branding() -> Response:
    tenant, branding = _configured()
    require_if_match(version_etag(branding.version))
    return _replace(tenant, branding, json_object())


@tenant_api.patch("/admin/branding")
@requires("config:write")
def change_branding() -> Response:
    """Change only the named fields (JSON Merge Patch); the rest keep their values."""
    tenant, branding = _configured()
    return _replace(tenant, branding, patched(branding_settings(tenant, branding), version_etag(branding.version)))


@tenant_api.put("/admin/branding/logo")
@requires("config:write")
def upload_logo() -> Response:
    """The logo, as the request's whole body (`image/png` or `image/jpeg`)."""
    tenant, branding = _configured()
    require_if_match(version_etag(branding.version))
    if request.mimetype not in LOGO_TYPES:
        raise http_error(UnsupportedMediaType, "Send the logo as image/png or image/jpeg.", "unsupported_media_type")
    if (request.content_length or 0) > current_app.config["TOWNHALL_SETTINGS"].max_body_bytes:
        raise RequestEntityTooLarge()
    url = current_app.config["TOWNHALL_SETTINGS"].base_url + url_for("tenant_api.get_logo", tenant=tenant.slug)
    set_logo(session(), current_app.extensions["townhall.storage"], tenant, branding, request.get_data(), url,
             principal().actor)
    tenant_cache().forget(tenant.slug)
    return _admin_view(tenant, branding)


@tenant_api.get("/branding/logo")
@public
def get_logo() -> Response:
    """The municipality's uploaded logo (public, cacheable)."""
    tenant, _ = _configured()
    try:
        content = current_app.extensions["townhall.storage"].get(logo_key(tenant))
    except FileNotFoundError as error:
        raise http_error(NoSuchFile, "This municipality has not uploaded a logo.", "not_found") from error
    response = Response(content, mimetype=sniff(content))
    response.headers["Cache-Control"] = (
        f"public, max-age={current_app.config['TOWNHALL_SETTINGS'].public_cache_seconds}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
