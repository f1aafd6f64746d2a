"""Read-side lookups for tenants and their configuration."""

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenants.models import Tenant, TenantBranding, TenantStatus
from townhall.errors import NotFound


def tenant_by_slug(session: Session, slug: str) -> Tenant | None:
    return session.scalars(select(Tenant).where(Tenant.slug == slug)).one_or_none()


def require_tenant(session: Session, slug: str) -> Tenant:
    tenant = tenant_by_slug(session, slug)
    if tenant is None:
        raise NotFound(f"No municipality '{slug}' on this platform.")
    return tenant


def slugs_by_id(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """One query for the municipalities a platform-wide list mentions."""
    if not ids:
        return {}
    rows = session.execute(select(Tenant.id, Tenant.slug).where(Tenant.id.in_(set(ids)))).all()
    return dict(rows)


def all_tenants(session: Session, after: str | None = None, limit: int | None = None) -> Sequence[Tenant]:
    """Ordered by slug (keyset pagination: the page after `after`)."""
    query = select(Tenant).order_by(Tenant.slug)
    if after is not None:
        query = query.where(Tenant.slug > after)
    return session.scalars(query.limit(limit)).all()


def active_tenants(session: Session, limit: int) -> Sequence[Tenant]:
    """The first `limit` active municipalities by slug (what the landing page lists)."""
    return session.scalars(select(Tenant).where(Tenant.status == TenantStatus.ACTIVE)
                           .order_by(Tenant.slug).limit(limit)).all()


def branding_of(session: Session, tenant_id: uuid.UUID) -> TenantBranding:
    # Scoped explicitly by tenant (first layer); the ORM guard and RLS add theirs.
    branding = session.get(TenantBranding, tenant_id)
    if branding is None:
        raise NotFound("This municipality has no branding yet.")
    return branding
