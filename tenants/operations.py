"""Write use-cases for tenants. They validate, change and flush; the caller commits once."""

import hashlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenants.models import BRANDING_FIELDS, LANGUAGE_FIELDS, Tenant, TenantBranding, TenantStatus
from tenants.plans import PLANS
from tenants.schemas import BrandingSettings, TenantInput, normalise_colour
from townhall.audit.operations import start_chain
from townhall.changes.diff import differences
from townhall.changes.operations import record
from townhall.clock import utcnow
from townhall.errors import Conflict, InvalidInput, StaleVersion
from townhall.invalidation import announce
from townhall.storage import Storage, sniff
from townhall.tenancy import tenant_scope
from townhall.validation import load


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
        start_chain(session, tenant.id)
        session.add(TenantBranding(tenant_id=tenant.id, display_name=dict(tenant.names)))
        record(session, tenant.id, actor, "tenant", {"created": {"from": None, "to": values}})
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
    """Change the given fields only (the CLI's and the demo's way): the same replacement as the
    admins' API, of the current settings with these fields changed. Returns the changes (empty:
    nothing changed)."""
    if expected_version is not None and expected_version != branding.version:
        raise StaleVersion("The branding changed since you read it.")
    return configure_branding(session, tenant, branding, branding_settings(tenant, branding) | dict(data), actor)


def branding_settings(tenant: Tenant, branding: TenantBranding) -> dict[str, Any]:
    """What the municipality's admins set about how it presents itself, as they would send it."""
    return ({field: getattr(tenant, field) for field in LANGUAGE_FIELDS}
            | {field: getattr(branding, field) for field in BRANDING_FIELDS})


def configure_branding(session: Session, tenant: Tenant, branding: TenantBranding, data: Mapping[str, Any],
                       actor: str) -> dict[str, Any]:
    """Replace the branding, languages and time zone as a whole (what `data` leaves out takes its
    default); record what changed. Returns the changes (empty: nothing changed)."""
    values = load(BrandingSettings, data)
    values.setdefault("names", dict(tenant.names))
    values.setdefault("display_name", dict(values["names"]))
    for colour in ("primary_colour", "accent_colour"):
        values[colour] = normalise_colour(values[colour])
    before = branding_settings(tenant, branding)
    changes = differences(before, {field: values.get(field) for field in before}, before)
    if not changes:
        return changes
    for field in LANGUAGE_FIELDS:
        setattr(tenant, field, values[field])
    for field in BRANDING_FIELDS:
        setattr(branding, field, values.get(field))
    branding.updated_at = utcnow()  # a new version even when only the tenant's own fields changed
    record(session, tenant.id, actor, "branding", changes)
    session.flush()
    announce(session, f"tenant:{tenant.slug}")
    return changes


LOGO_TYPES = ("image/png", "image/jpeg")
MAX_LOGO_BYTES = 262_144


def logo_key(tenant: Tenant) -> str:
    return f"logos/{tenant.id}/logo"


def set_logo(session: Session, storage: Storage, tenant: Tenant, branding: TenantBranding, content: bytes,
             url: str, actor: str) -> None:
    """Keep an uploaded logo (PNG or JPEG, by its first bytes; at most 256 KiB) and point the
    branding at `url`, which names its content so that caches see a new logo at once."""
    if sniff(content) not in LOGO_TYPES:
        raise InvalidInput({"logo": ["A PNG or JPEG image."]})
    if len(content) > MAX_LOGO_BYTES:
        raise InvalidInput({"logo": [f"At most {MAX_LOGO_BYTES} bytes."]})
    digest = hashlib.sha256(content).hexdigest()[:16]
    located = f"{url}?v={digest}"
    if branding.logo_url == located:
        return
    storage.put(logo_key(tenant), content)  # before the row: the branding never names missing bytes
    record(session, tenant.id, actor, "branding", {"logo_url": {"from": branding.logo_url, "to": located}})
    branding.logo_url = located
    session.flush()
    announce(session, f"tenant:{tenant.slug}")


def set_status(session: Session, tenant: Tenant, status: TenantStatus, actor: str) -> bool:
    """Suspend or reactivate. Returns False when the tenant already had that status."""
    if tenant.status is status:
        return False
    with tenant_scope(session, tenant.id):
        record(session, tenant.id, actor, "status", {"status": {"from": tenant.status.value, "to": status.value}})
        tenant.status = status
        session.flush()
    announce(session, f"tenant:{tenant.slug}")  # every process refuses (or serves) it once this commits
    return True


def set_plan(session: Session, tenant: Tenant, plan: str, actor: str) -> bool:
    """Put the municipality on another plan (a code of PLANS). Returns False when it was on it."""
    if plan not in PLANS:
        raise InvalidInput({"plan": [f"One of {', '.join(PLANS)}."]})
    if tenant.plan == plan:
        return False
    with tenant_scope(session, tenant.id):
        record(session, tenant.id, actor, "plan", {"plan": {"from": tenant.plan, "to": plan}})
        tenant.plan = plan
        session.flush()
    announce(session, f"tenant:{tenant.slug}")  # its limits change on every process once this commits
    return True
