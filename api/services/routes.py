"""GET /v1/service-types[/<code>] (what the platform offers, with each application form's JSON
Schema), GET /t/<tenant>/v1/services[/<code>] (a municipality's catalogue, public and localised) and
/t/<tenant>/v1/admin/services[/<code>] (`config:write`: every entry as its admins set it; GET, PUT
and PATCH with the entry's version as ETag)."""

from typing import Any

from flask import Response, current_app, g, jsonify, request

from api.access import public
from api.database import session
from api.http import cacheable_json, json_object, patched, require_if_match, version_etag, versioned
from api.oauth.protect import requires
from api.platform.routes import platform_api
from api.principal import principal
from api.tenant_api import tenant_api
from townhall.errors import NotFound
from townhall.forms import json_schema
from townhall.localisation import pick
from townhall.services.base import ServiceType
from townhall.services.models import CatalogEntry
from townhall.services.operations import configure_service, settings_of
from townhall.services.queries import catalogue, catalogue_entry
from townhall.services.registry import SERVICE_TYPES, service_type


def _type_view(service: ServiceType) -> dict[str, Any]:
    workflow = service.workflow
    return {
        "code": service.code, "names": service.names, "descriptions": service.descriptions,
        "default_fee": {"amount_cents": service.fee_cents, "currency": "EUR"},
        "default_processing_days": service.processing_days, "evidence": list(service.evidence),
        "retention": {"default_days": service.retention.days, "min_days": service.retention.min_days,
                      "max_days": service.retention.max_days, "why": service.retention.why},
        "produces": service.produces, "form": json_schema(service.form),
        "workflow": {
            "states": list(workflow.states), "initial": workflow.initial, "terminal": sorted(workflow.terminal),
            "transitions": [{"from": t.source, "to": t.target, "roles": sorted(t.roles),
                             "informs_citizen": t.informs_citizen} for t in workflow.transitions],
        },
    }


@platform_api.get("/service-types")
@public
def service_types() -> Response:
    """What the platform offers every municipality (public)."""
    return cacheable_json({"items": [_type_view(s) for s in SERVICE_TYPES.values()]},
                          max_age=current_app.config["TOWNHALL_SETTINGS"].public_cache_seconds)


@platform_api.get("/service-types/<string(maxlength=63):code>")
@public
def get_service_type(code: str) -> Response:
    """One service type (public), with the JSON Schema of its application form."""
    service = service_type(code)
    if service is None:
        raise NotFound(f"The platform offers no service '{code}'.")
    return cacheable_json(_type_view(service), max_age=current_app.config["TOWNHALL_SETTINGS"].public_cache_seconds)


def _entry_view(entry: CatalogEntry, preferred: list[str]) -> dict[str, Any]:
    service = SERVICE_TYPES[entry.service]
    return {
        "code": entry.service,
        "name": pick(entry.names or service.names, preferred)[1],
        "description": pick(entry.descriptions or service.descriptions, preferred)[1],
        "fee": {"amount_cents": entry.fee_cents, "currency": "EUR"},
        "processing_days": entry.processing_days,
        "channels": entry.channels,
    }


def _preferred() -> list[str]:
    tenant = g.tenant
    wanted = request.accept_languages.best_match(tenant.languages, default=tenant.default_language)
    return [wanted, tenant.default_language]


@tenant_api.get("/services")
@public
def list_services() -> Response:
    preferred = _preferred()
    entries = [e for e in catalogue(session(), g.tenant.id) if e.service in SERVICE_TYPES]
    response = cacheable_json({"language": preferred[0], "items": [_entry_view(e, preferred) for e in entries]},
                              max_age=current_app.config["TOWNHALL_SETTINGS"].public_cache_seconds,
                              vary="Accept-Language")
    response.headers["Content-Language"] = preferred[0]
    return response


@tenant_api.get("/services/<string(maxlength=63):code>")
@public
def get_service(code: str) -> Response:
    """One service the municipality offers (public, localised), with its application form."""
    entry = catalogue_entry(session(), g.tenant.id, code)
    if entry is None or not entry.enabled or entry.service not in SERVICE_TYPES:
        raise NotFound(f"This municipality does not offer '{code}'.")
    preferred = _preferred()
    service = SERVICE_TYPES[entry.service]
    body = _entry_view(entry, preferred) | {"evidence": list(service.evidence), "form": json_schema(service.form)}
    response = cacheable_json(body, max_age=current_app.config["TOWNHALL_SETTINGS"].public_cache_seconds,
                              vary="Accept-Language")
    response.headers["Content-Language"] = preferred[0]
    return response


def _admin_view(entry: CatalogEntry) -> dict[str, Any]:
    return {"code": entry.service, **settings_of(entry), "updated_at": entry.updated_at.isoformat()}


def _configured(code: str) -> CatalogEntry:
    entry = catalogue_entry(session(), g.tenant.id, code)
    if entry is None:
        raise NotFound(f"This municipality has not configured '{code}' (PUT creates the entry).")
    return entry


@tenant_api.get("/admin/services")
@requires("config:write")
def list_configured_services() -> Response:
    """Every entry the municipality configured, offered or not."""
    entries = catalogue(session(), g.tenant.id, offered_only=False)
    return jsonify(items=[_admin_view(e) for e in entries if e.service in SERVICE_TYPES], next=None)


@tenant_api.get("/admin/services/<string(maxlength=63):code>")
@requires("config:write")
def get_configured_service(code: str) -> Response:
    entry = _configured(code)
    return versioned(_admin_view(entry), entry.version)


@tenant_api.put("/admin/services/<string(maxlength=63):code>")
@requires("config:write")
def offer_service(code: str) -> Response:
    """Offer a service, or replace how it is offered (`If-Match` once the entry exists)."""
    existing = catalogue_entry(session(), g.tenant.id, code)
    if existing is not None:
        require_if_match(version_etag(existing.version))
    entry, created = configure_service(session(), g.tenant.id, code, json_object(), actor=principal().actor)
    return versioned(_admin_view(entry), entry.version, 201 if created else 200)


@tenant_api.patch("/admin/services/<string(maxlength=63):code>")
@requires("config:write")
def change_service(code: str) -> Response:
    """Change only the named settings (JSON Merge Patch); the rest keep their values."""
    entry = _configured(code)
    settings = patched(settings_of(entry), version_etag(entry.version))
    changed, _ = configure_service(session(), g.tenant.id, code, settings, actor=principal().actor)
    return versioned(_admin_view(changed), changed.version)
