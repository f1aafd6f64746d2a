"""Read-side lookups for the catalogue."""

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from townhall.services.models import CatalogEntry


def catalogue(session: Session, tenant_id: uuid.UUID, offered_only: bool = True) -> Sequence[CatalogEntry]:
    query = select(CatalogEntry).where(CatalogEntry.tenant_id == tenant_id).order_by(CatalogEntry.service)
    if offered_only:
        query = query.where(CatalogEntry.enabled.is_(True))
    return session.scalars(query).all()


def catalogue_entry(session: Session, tenant_id: uuid.UUID, code: str) -> CatalogEntry | None:
    return session.get(CatalogEntry, (tenant_id, code))
