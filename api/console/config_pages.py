"""Branding (with a preview of what citizens see), the catalogue, and the history of changes: forms
over the same kernel operations and validation as the admin API."""

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Response, current_app, g, request, url_for

from api.console.routes import console, refused
from api.console.texts import LANGUAGES
from api.console.web import console_page, page, see_other, text
from api.database import session
from api.principal import principal
from api.tenant_api import tenant_cache
from tenants.models import Tenant, TenantBranding
from tenants.operations import branding_settings, set_logo, update_branding
from tenants.queries import branding_of, require_tenant
from tenants.schemas import BrandingSettings
from townhall.changes.queries import history
from townhall.errors import InvalidInput, NotFound, StaleVersion, TownhallError
from townhall.services.models import CatalogEntry
from townhall.services.operations import configure_service, settings_of
from townhall.services.queries import catalogue, catalogue_entry
from townhall.services.registry import SERVICE_TYPES
from townhall.services.schemas import CHANNELS
from townhall.validation import load

OPTIONAL = ("contact_email", "phone", "website", "privacy_url")


def _configured() -> tuple[Tenant, TenantBranding]:
    tenant = require_tenant(session(), g.tenant.slug)
    return tenant, branding_of(session(), tenant.id)


def _localised(prefix: str) -> dict[str, str]:
    return {code: value for code in LANGUAGES if (value := request.form.get(f"{prefix}.{code}", "").strip())}


def _branding_form() -> dict[str, Any]:
    """What the branding form says, in the shape of the admin API's settings."""
    form = request.form
    values: dict[str, Any] = {"names": _localised("names"), "display_name": _localised("display_name"),
                              "languages": form.getlist("languages"),
                              **{name: form.get(name, "").strip() for name in
                                 ("default_language", "time_zone", "primary_colour", "accent_colour")}}
    values |= {name: form.get(name, "").strip() or None for name in OPTIONAL}
    return values


def _branding_page(tenant: Tenant, branding: TenantBranding, shown: dict[str, Any], status: int = 200,
                   errors: dict[str, list[str]] | None = None, previewing: bool = False) -> Response:
    # The preview shows only colours that passed the checks: never white text on an unreadable colour.
    shown_colours = errors is None or not ({"primary_colour", "accent_colour"} & set(errors))
    colours = shown if shown_colours else branding_settings(tenant, branding)
    return page("branding.html", status=status, section="branding", settings=shown, version=branding.version,
                errors=errors, previewing=previewing, all_languages=LANGUAGES,
                preview={"primary": colours["primary_colour"], "accent": colours["accent_colour"]})


@console.get("/branding")
@console_page("config:write")
def branding() -> Response:
    tenant, current = _configured()
    return _branding_page(tenant, current, branding_settings(tenant, current))


@console.post("/branding")
@console_page("config:write")
def save_branding() -> Response:
    """`action=preview` shows the form's values as citizens would see them, checked but not saved;
    `action=save` saves them (at the version the admin saw)."""
    tenant, current = _configured()
    shown = branding_settings(tenant, current) | _branding_form()
    version = request.form.get("version", "")
    try:
        if request.form.get("action") == "preview":
            load(BrandingSettings, shown)
            return _branding_page(tenant, current, shown, previewing=True)
        with session().begin_nested():
            changed = update_branding(session(), tenant, current, _branding_form(), principal().actor,
                                      expected_version=int(version) if version.isdigit() and len(version) < 10 else 0)
    except StaleVersion:
        return _branding_page(tenant, current, shown, 409, {"": [text()["stale"]]})
    except TownhallError as error:
        return _branding_page(tenant, current, shown, 422, refused(error))
    if changed:
        tenant_cache().forget(tenant.slug)
    return see_other(url_for("console.branding", done="saved" if changed else "unchanged"))


@console.post("/branding/logo")
@console_page("config:write")
def upload_logo() -> Response:
    tenant, current = _configured()
    upload = request.files.get("logo")
    content = upload.read() if upload else b""
    url = current_app.config["TOWNHALL_SETTINGS"].base_url + url_for("tenant_api.get_logo", tenant=tenant.slug)
    try:
        with session().begin_nested():
            set_logo(session(), current_app.extensions["townhall.storage"], tenant, current, content, url,
                     principal().actor)
    except TownhallError as error:
        return _branding_page(tenant, current, branding_settings(tenant, current), 422, refused(error))
    tenant_cache().forget(tenant.slug)
    return see_other(url_for("console.branding", done="saved"))


@console.get("/services")
@console_page("config:write")
def services() -> Response:
    entries = {entry.service: entry for entry in catalogue(session(), g.tenant.id, offered_only=False)}
    return page("services.html", section="services", entries=entries, types=SERVICE_TYPES)


def _entry(code: str) -> CatalogEntry:
    entry = catalogue_entry(session(), g.tenant.id, code) if code in SERVICE_TYPES else None
    if entry is None:
        raise NotFound("This municipality has no such catalogue entry.")
    return entry


def _service_page(entry: CatalogEntry, shown: dict[str, Any], status: int = 200,
                  errors: dict[str, list[str]] | None = None) -> Response:
    return page("service.html", status=status, section="services", entry=entry, settings=shown, errors=errors,
                service=SERVICE_TYPES[entry.service], channels=CHANNELS, all_languages=LANGUAGES)


@console.get("/services/<string(maxlength=63):code>")
@console_page("config:write")
def service(code: str) -> Response:
    entry = _entry(code)
    return _service_page(entry, settings_of(entry))


EUROS = re.compile(r"\d{1,7}([.,]\d{1,2})?")


def _cents(raw: str) -> int | None:
    if not EUROS.fullmatch(raw):
        return None
    try:
        return int(Decimal(raw.replace(",", ".")) * 100)
    except InvalidOperation:
        return None


def _service_form(entry: CatalogEntry) -> dict[str, Any]:
    form = request.form
    values = settings_of(entry) | {"enabled": form.get("enabled") == "on", "channels": form.getlist("channels"),
                                   "names": _localised("names"), "descriptions": _localised("descriptions")}
    fee, days = form.get("fee", "").strip(), form.get("processing_days", "").strip()
    cents = _cents(fee)
    values["fee_cents"] = cents if cents is not None else fee  # what is not an amount is refused at the field
    values["processing_days"] = int(days) if days.isdigit() and len(days) < 6 else days
    return values


@console.post("/services/<string(maxlength=63):code>")
@console_page("config:write")
def save_service(code: str) -> Response:
    entry = _entry(code)
    values = _service_form(entry)
    version = request.form.get("version", "")
    try:
        if isinstance(values["fee_cents"], str):
            raise InvalidInput({"fee_cents": [text()["fee"] + ": 12.50"]})
        with session().begin_nested():
            configure_service(session(), g.tenant.id, code, values,
                              int(version) if version.isdigit() and len(version) < 10 else 0,
                              actor=principal().actor)
    except StaleVersion:
        return _service_page(entry, values, 409, {"": [text()["stale"]]})
    except TownhallError as error:
        return _service_page(entry, values, 422, refused(error))
    return see_other(url_for("console.service", code=code, done="saved"))


@console.get("/changes")
@console_page("config:write")
def changes() -> Response:
    return page("changes.html", section="changes", changes=history(session(), g.tenant.id, limit=100))
