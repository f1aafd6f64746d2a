"""Write use-cases for tenants. They validate, change and flush; the caller commits once."""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenants.models import BRANDING_FIELDS, ConfigChange, Tenant, TenantBranding, TenantStatus
from tenants.schemas import BrandingInput, TenantInput, normalise_colour
from townhall.errors import Conflict, StaleVersion
from townhall.invalidation import announce
from townhall.tenancy import tenant_scope
from townhall.validation import load


def _record(session: Session, tenant: Tenant, actor: str, subject: str, changes: dict[str, Any]) -> None:
    session.add(ConfigChange(tenant_id=tenant.id, actor=actor, subject=subject, changes=changes))


def create_tenant(session: Session, data: Mapping[str, Any], actor: str) -> Tenant:
    values = load(TenantInput, data)
    values.setdefault("names", {values["default_language"]: values["slug"]})
    taken = session.scalars(
        select(Tenant).where((Tenant.slug == values["slug"]) | (Tenant.nis_code == values["nis_code"]))
    ).first()
    if taken is not None:
        field = "slug" if taken.slug == values["slug"] else "NIS code"
        raise Conflict(f"A municipality with this {field} exists already.")
    tenant = Tenant(**values)
    session.add(tenant)
    session.flush()
    with tenant_scope(session, tenant.id):
        session.add(TenantBranding(tenant_id=tenant.id, display_name=dict(tenant.names)))
        _record(session, tenant, actor, "tenant", {"created": {"from": None, "to": values}})
        session.flush()
    return tenant


def update_branding(
    session: Session,
    tenant: Tenant,
    branding: TenantBranding,
    data: Mapping[str, Any],
    actor: str,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Apply the given fields; record what changed. Returns the changes (empty: nothing changed)."""
    if expected_version is not None and expected_version != branding.version:
        raise StaleVersion("The branding changed since you read it.")
    values = load(BrandingInput, data, partial=True)
    for colour in ("primary_colour", "accent_colour"):
        if colour in values:
            values[colour] = normalise_colour(values[colour])
    changes: dict[str, Any] = {}
    for field in BRANDING_FIELDS:
        if field in values and values[field] != getattr(branding, field):
            changes[field] = {"from": getattr(branding, field), "to": values[field]}
            setattr(branding, field, values[field])
    if changes:
        _record(session, tenant, actor, "branding", changes)
        session.flush()
        announce(session, f"tenant:{tenant.slug}")
    return changes


def set_status(session: Session, tenant: Tenant, status: TenantStatus, actor: str) -> bool:
    """Suspend or reactivate. Returns False when the tenant already had that status."""
    if tenant.status is status:
        return False
    with tenant_scope(session, tenant.id):
        _record(session, tenant, actor, "status", {"status": {"from": tenant.status.value, "to": status.value}})
        tenant.status = status
        session.flush()
    announce(session, f"tenant:{tenant.slug}")  # every process refuses (or serves) it once this commits
    return True
