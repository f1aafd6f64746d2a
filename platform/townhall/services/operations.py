"""Write use-cases for the catalogue. They validate, change and flush; the caller commits."""

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from townhall.errors import NotFound, StaleVersion
from townhall.services.models import CatalogEntry
from townhall.services.registry import service_type
from townhall.services.schemas import CatalogInput
from townhall.validation import load


def configure_service(session: Session, tenant_id: uuid.UUID, code: str, data: Mapping[str, Any],
                      expected_version: int | None = None) -> tuple[CatalogEntry, bool]:
    """Offer a service (or change how it is offered). Returns the entry and whether it is new."""
    service = service_type(code)
    if service is None:
        raise NotFound(f"The platform offers no service '{code}'.")
    values = load(CatalogInput, data)
    entry = session.get(CatalogEntry, (tenant_id, code))
    created = entry is None
    if entry is None:
        entry = CatalogEntry(tenant_id=tenant_id, service=code)
        session.add(entry)
    elif expected_version is not None and expected_version != entry.version:
        raise StaleVersion("The catalogue entry changed since you read it.")
    entry.enabled = values["enabled"]
    entry.names, entry.descriptions = values["names"], values["descriptions"]
    entry.fee_cents = values.get("fee_cents", service.fee_cents)
    entry.processing_days = values.get("processing_days", service.processing_days)
    entry.channels = list(dict.fromkeys(values["channels"]))
    session.flush()
    return entry, created
