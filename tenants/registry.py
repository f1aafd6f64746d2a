"""A per-process cache of tenant facts that every request needs (which tenant, its status, languages,
branding), so that public reads do not pay database round trips for configuration that rarely changes.

Entries live `ttl` seconds: a change made elsewhere (another worker, the CLI) is seen within that time.
Snapshots are plain frozen values, never ORM objects, so they are safe to share between requests.
"""

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session

from tenants.models import Tenant, TenantBranding, TenantStatus
from tenants.queries import branding_of, tenant_by_slug


@dataclass(frozen=True)
class TenantSnapshot:
    id: uuid.UUID
    slug: str
    status: TenantStatus
    names: dict[str, str]
    default_language: str
    languages: list[str]
    time_zone: str

    @property
    def is_active(self) -> bool:
        return self.status is TenantStatus.ACTIVE

    @classmethod
    def of(cls, tenant: Tenant) -> "TenantSnapshot":
        return cls(tenant.id, tenant.slug, tenant.status, dict(tenant.names), tenant.default_language,
                   list(tenant.languages), tenant.time_zone)


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


K = TypeVar("K")
V = TypeVar("V")


class TenantCache:
    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._tenants: dict[str, tuple[float, TenantSnapshot]] = {}
        self._branding: dict[uuid.UUID, tuple[float, BrandingSnapshot]] = {}
        self._lock = threading.Lock()

    def tenant(self, session: Session, slug: str) -> TenantSnapshot | None:
        """The tenant with this slug, or None (unknown slugs are not cached: a new tenant shows at once)."""
        cached = self._tenants.get(slug)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        tenant = tenant_by_slug(session, slug)
        if tenant is None:
            return None
        snapshot = TenantSnapshot.of(tenant)
        self._store(self._tenants, slug, snapshot)
        return snapshot

    def branding(self, session: Session, tenant_id: uuid.UUID) -> BrandingSnapshot:
        """The tenant's branding; the caller has made `tenant_id` the current tenant."""
        cached = self._branding.get(tenant_id)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        snapshot = BrandingSnapshot.of(branding_of(session, tenant_id))
        self._store(self._branding, tenant_id, snapshot)
        return snapshot

    def forget(self, slug: str) -> None:
        """Drop what this process knows of a tenant it just changed."""
        with self._lock:
            dropped = self._tenants.pop(slug, None)
            if dropped is not None:
                self._branding.pop(dropped[1].id, None)

    def _store(self, table: dict[K, tuple[float, V]], key: K, value: V) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            table[key] = (self._clock() + self.ttl, value)
