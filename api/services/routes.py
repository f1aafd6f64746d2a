"""GET /v1/service-types (what the platform offers), GET /t/<tenant>/v1/services (a municipality's
catalogue, public and localised) and PUT /t/<tenant>/v1/services/<code> (`config:write`)."""

from typing import Any

from flask import Response, current_app, g, jsonify, request

from api.access import public
from api.database import session
from api.http import cacheable_json, json_object, require_if_match
from api.oauth.protect import requires
from api.platform.routes import platform_api
from api.tenant_api import tenant_api
from townhall.localisation import pick
from townhall.services.base import ServiceType
from townhall.services.models import CatalogEntry
from townhall.services.operations import configure_service
from townhall.services.queries import catalogue, catalogue_entry
from townhall.services.registry import SERVICE_TYPES


def _type_view(service: ServiceType) -> dict[str, Any]:
    workflow = service.workflow
    return {
        "code": service.code, "names": service.names, "descriptions": service.descriptions,
        "default_fee": {"amount_cents": service.fee_cents, "currency": "EUR"},
        "default_processing_days": service.processing_days, "evidence": list(service.evidence),
        "produces": service.produces,
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


def _etag(entry: CatalogEntry) -> str:
    return f'"v{entry.version}"'


@tenant_api.put("/services/<string(maxlength=63):code>")
@requires("config:write")
def offer_service(code: str) -> Response:
    """Offer a service, or change how it is offered (`If-Match` once the entry exists)."""
    existing = catalogue_entry(session(), g.tenant.id, code)
    if existing is not None:
        require_if_match(_etag(existing))
    entry, created = configure_service(session(), g.tenant.id, code, json_object())
    body = _entry_view(entry, _preferred()) | {"enabled": entry.enabled, "names": entry.names,
                                                "descriptions": entry.descriptions}
    response = jsonify(body)
    response.status_code = 201 if created else 200
    response.headers["ETag"] = _etag(entry)
    return response
