"""The tenant API blueprint: `/t/<tenant>/v1/...`. The tenant comes from the URL, nowhere else."""

from typing import Any

from flask import Blueprint, current_app, g
from werkzeug.routing import BaseConverter

from api.database import session
from tenants.registry import TenantCache, TenantSnapshot
from tenants.schemas import SLUG_PATTERN
from townhall.errors import Forbidden, NotFound
from townhall.localisation import pick
from townhall.tenancy import Municipality, enter_tenant, leave_tenant


class SlugConverter(BaseConverter):
    """Only well-formed slugs reach the database; anything else is an unknown route (404)."""

    regex = SLUG_PATTERN


class TenantNotFound(NotFound):
    code = "tenant_not_found"


class TenantSuspended(Forbidden):
    code = "tenant_suspended"


def tenant_cache() -> TenantCache:
    cache: TenantCache = current_app.extensions["townhall.tenant_cache"]
    return cache


tenant_api = Blueprint("tenant_api", __name__, url_prefix="/t/<slug:tenant>/v1")


def resolve_tenant(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    slug = (values or {}).pop("tenant", None)
    if slug is None:
        return
    tenant = tenant_cache().tenant(session(), slug)
    if tenant is None:
        raise TenantNotFound(f"No municipality '{slug}' on this platform.")
    if not tenant.is_active:
        raise TenantSuspended(f"The municipality '{slug}' is suspended on this platform.")
    use_tenant(tenant)


tenant_api.url_value_preprocessor(resolve_tenant)


def use_tenant(tenant: TenantSnapshot) -> None:
    """Make `tenant` this request's tenant (for the tenant APIs, and the OAuth endpoints once the
    client id has named it). A request serves one tenant only."""
    current = g.get("tenant")
    if current is not None:
        if current.id != tenant.id:
            raise RuntimeError("a request serves one tenant only")
        return
    g.tenant = tenant
    g.tenant_token = enter_tenant(g.get("db_session"), tenant.id)  # a session opened later starts with it


@tenant_api.url_defaults
def _current_tenant(_endpoint: str, values: dict[str, Any]) -> None:
    if "tenant" not in values and g.get("tenant") is not None:
        values["tenant"] = g.tenant.slug


def leave_request_tenant(_error: BaseException | None = None) -> None:
    token = g.pop("tenant_token", None)
    if token is not None:
        leave_tenant(token)


def tenant_api_url() -> str:
    """The absolute URL of the current tenant's API: printed on documents, the source of its events."""
    url: str = current_app.config["TOWNHALL_SETTINGS"].tenant_api_url(g.tenant.slug)
    return url


def current_municipality() -> Municipality:
    """What case operations need of the current tenant: its name as printed, its API's address."""
    return Municipality(g.tenant.id, g.tenant.slug, pick(g.tenant.names, [g.tenant.default_language])[1],
                        tenant_api_url(), g.tenant.time_zone)
