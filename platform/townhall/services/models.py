"""A municipality's catalogue: which services it offers, with its own texts, fee, time and channels."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from townhall.clock import utcnow
from townhall.db import Base, TenantOwned


class CatalogEntry(TenantOwned, Base):
    __tablename__ = "catalog_entries"

    service: Mapped[str] = mapped_column(String(63), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    names: Mapped[dict[str, str]]  # the municipality's own wording; the service's when empty
    descriptions: Mapped[dict[str, str]]
    fee_cents: Mapped[int]
    processing_days: Mapped[int]
    retention_days: Mapped[int]  # a closed case is pseudonymised this long after it closed
    channels: Mapped[list[str]]
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}
