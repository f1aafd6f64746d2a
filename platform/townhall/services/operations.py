"""Write use-cases for the catalogue. They validate, change and flush; the caller commits."""

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from townhall.changes.diff import differences
from townhall.changes.operations import record
from townhall.errors import InvalidInput, NotFound, StaleVersion
from townhall.services.models import CatalogEntry
from townhall.services.registry import service_type
from townhall.services.schemas import CatalogInput
from townhall.validation import load

SETTINGS = ("enabled", "names", "descriptions", "fee_cents", "processing_days", "retention_days", "channels")
"""What a municipality sets on a catalogue entry: the body of a full replacement."""


def settings_of(entry: CatalogEntry) -> dict[str, Any]:
    return {"enabled": entry.enabled, "names": dict(entry.names), "descriptions": dict(entry.descriptions),
            "fee_cents": entry.fee_cents, "processing_days": entry.processing_days,
            "retention_days": entry.retention_days, "channels": list(entry.channels)}


def configure_service(session: Session, tenant_id: uuid.UUID, code: str, data: Mapping[str, Any],
                      expected_version: int | None = None, *, actor: str = "platform") -> tuple[CatalogEntry, bool]:
    """Offer a service, or replace how it is offered (what `data` leaves out takes the service's
    default), and record what changed (`actor`: who; the platform itself when seeding). Returns the
    entry and whether it is new."""
    service = service_type(code)
    if service is None:
        raise NotFound(f"The platform offers no service '{code}'.")
    values = load(CatalogInput, data)
    bounds = service.retention
    retention_days = values.get("retention_days", bounds.days)
    if not bounds.min_days <= retention_days <= bounds.max_days:
        raise InvalidInput({"retention_days": [f"Between {bounds.min_days} and {bounds.max_days} days for this "
                                               "service (the platform's bounds)."]})
    entry = session.get(CatalogEntry, (tenant_id, code))
    created = entry is None
    before = {} if entry is None else settings_of(entry)
    if entry is None:
        entry = CatalogEntry(tenant_id=tenant_id, service=code)
        session.add(entry)
    elif expected_version is not None and expected_version != entry.version:
        raise StaleVersion("The catalogue entry changed since you read it.")
    entry.enabled = values["enabled"]
    entry.names, entry.descriptions = values["names"], values["descriptions"]
    entry.fee_cents = values.get("fee_cents", service.fee_cents)
    entry.processing_days = values.get("processing_days", service.processing_days)
    entry.retention_days = retention_days
    entry.channels = list(dict.fromkeys(values["channels"]))
    record(session, tenant_id, actor, f"service:{code}", differences(before, settings_of(entry), SETTINGS))
    session.flush()
    return entry, created
