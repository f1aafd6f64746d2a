"""A per-process cache of tenant facts that every request needs (which tenant, its status, languages,
branding), so that public reads do not pay database round trips for configuration that rarely changes.

Entries live `ttl` seconds (TOWNHALL_TENANT_CACHE_SECONDS) while the process hears announced changes
(`townhall.invalidation`: a suspension or branding change made elsewhere drops them at once), at most
one second otherwise.
Snapshots are plain frozen values, never ORM objects, so they are safe to share between requests.
"""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tenants.models import Tenant, TenantBranding, TenantStatus
from tenants.queries import branding_of, tenant_by_slug
from townhall.cache import Freshness, TimedCache
from townhall.invalidation import transaction_began


@dataclass(frozen=True)
class TenantSnapshot:
    id: uuid.UUID
    slug: str
    status: TenantStatus
    names: dict[str, str]
    default_language: str
    languages: list[str]
    time_zone: str
    plan: str

    @property
    def is_active(self) -> bool:
        return self.status is TenantStatus.ACTIVE

    @classmethod
    def of(cls, tenant: Tenant) -> "TenantSnapshot":
        return cls(tenant.id, tenant.slug, tenant.status, dict(tenant.names), tenant.default_language,
                   list(tenant.languages), tenant.time_zone, tenant.plan)


@dataclass(frozen=True)
class BrandingSnapshot:
    display_name: dict[str, str]
    logo_url: str | None
    primary_colour: str
    accent_colour: str
    contact_email: str | None
    phone: str | None
    website: str | None
    privacy_url: str | None
    version: int

    @classmethod
    def of(cls, branding: TenantBranding) -> "BrandingSnapshot":
        return cls(dict(branding.display_name), branding.logo_url, branding.primary_colour,
                   branding.accent_colour, branding.contact_email, branding.phone, branding.website,
                   branding.privacy_url, branding.version)


class TenantCache:
    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic,
                 freshness: Freshness | None = None) -> None:
        self.ttl = ttl
        self._monotonic = clock is time.monotonic  # reads are then dated from their transaction's start
        self._tenants: TimedCache[str, TenantSnapshot] = TimedCache(ttl, freshness, clock)
        self._branding: TimedCache[uuid.UUID, BrandingSnapshot] = TimedCache(ttl, freshness, clock)
        self._ids: dict[str, uuid.UUID] = {}  # slugs and ids never change: which branding a slug's is

    def tenant(self, session: Session, slug: str) -> TenantSnapshot | None:
        """The tenant with this slug, or None (unknown slugs are not cached: a new tenant shows at once)."""
        cached = self._tenants.get(slug)
        if cached is not None:
            return cached
        read = self._tenants.begin(self._began(session))
        tenant = tenant_by_slug(session, slug)
        if tenant is None:
            return None
        snapshot = TenantSnapshot.of(tenant)
        self._ids[slug] = snapshot.id
        self._tenants.put(slug, snapshot, read)
        return snapshot

    def branding(self, session: Session, tenant_id: uuid.UUID) -> BrandingSnapshot:
        """The tenant's branding; the caller has made `tenant_id` the current tenant."""
        cached = self._branding.get(tenant_id)
        if cached is not None:
            return cached
        read = self._branding.begin(self._began(session))
        snapshot = BrandingSnapshot.of(branding_of(session, tenant_id))
        self._branding.put(tenant_id, snapshot, read)
        return snapshot

    def _began(self, session: Session) -> float | None:
        return transaction_began(session) if self._monotonic else None

    def forget(self, slug: str) -> None:
        """Drop what this process knows of a tenant that changed (here, or as announced by another)."""
        self._tenants.forget(slug)
        tenant_id = self._ids.get(slug)
        if tenant_id is not None:
            self._branding.forget(tenant_id)

    def clear(self) -> None:
        self._tenants.clear()
        self._branding.clear()
