"""The per-process tenant cache: facts are reused for `ttl` seconds, then read again."""

from collections.abc import Callable

from flask import Flask

from api.database import database
from tenants.models import Tenant, TenantStatus
from tenants.operations import set_status, update_branding
from tenants.queries import branding_of, require_tenant
from tenants.registry import TenantCache
from townhall.tenancy import tenant_scope


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_tenant_and_branding_are_reused_until_they_expire(app: Flask, make_tenant: Callable[..., Tenant]) -> None:
    tenant = make_tenant("aalst", "41002")
    clock = FakeClock()
    cache = TenantCache(5, clock=clock)
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, tenant.id):
        first, first_branding = cache.tenant(session, "aalst"), cache.branding(session, tenant.id)
        set_status(session, require_tenant(session, "aalst"), TenantStatus.SUSPENDED, "test")
        update_branding(session, require_tenant(session, "aalst"), branding_of(session, tenant.id),
                        {"accent_colour": "#000000"}, "test")

        clock.now += 4.9
        assert cache.tenant(session, "aalst") is first
        assert cache.branding(session, tenant.id) is first_branding

        clock.now += 0.2
        fresh = cache.tenant(session, "aalst")
        assert fresh is not None and fresh.status is TenantStatus.SUSPENDED and not fresh.is_active
        assert cache.branding(session, tenant.id).accent_colour == "#000000"


def test_unknown_tenants_are_not_cached(app: Flask, make_tenant: Callable[..., Tenant]) -> None:
    cache = TenantCache(60)
    with app.app_context(), database().unit_of_work() as session:
        assert cache.tenant(session, "gent") is None
    make_tenant("gent", "44021")
    with app.app_context(), database().unit_of_work() as session:
        assert cache.tenant(session, "gent") is not None  # a new tenant is served at once


def test_a_zero_ttl_never_caches(app: Flask, make_tenant: Callable[..., Tenant]) -> None:
    make_tenant("gent", "44021")
    cache = TenantCache(0)
    with app.app_context(), database().unit_of_work() as session:
        assert cache.tenant(session, "gent") is not cache.tenant(session, "gent")
