"""The tenant registry (platform-wide) and each tenant's configuration (tenant-owned)."""

import enum
import uuid
from datetime import datetime

from sqlalchemy import Enum, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from townhall.clock import utcnow
from townhall.db import Base, TenantOwned
from townhall.ids import new_id


class TenantStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Tenant(Base):
    """A municipality. Platform-wide registry row: not tenant-owned, no row-level security."""

    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    nis_code: Mapped[str] = mapped_column(String(5), unique=True)
    names: Mapped[dict[str, str]]
    status: Mapped[TenantStatus] = mapped_column(
        Enum(TenantStatus, native_enum=False, create_constraint=True, length=16, name="status",
             values_callable=lambda members: [m.value for m in members]),
        default=TenantStatus.ACTIVE,
    )
    default_language: Mapped[str] = mapped_column(String(2))
    languages: Mapped[list[str]]
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/Brussels")
    plan: Mapped[str] = mapped_column(String(32), default="standard")  # a code of tenants.plans.PLANS
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    branding: Mapped["TenantBranding"] = relationship(back_populates="tenant", lazy="raise")

    @property
    def is_active(self) -> bool:
        return self.status is TenantStatus.ACTIVE


DEFAULT_PRIMARY, DEFAULT_ACCENT = "#1d4f91", "#f2c200"


class TenantBranding(TenantOwned, Base):
    """How the municipality presents itself. One row per tenant; `version` drives ETags."""

    __tablename__ = "tenant_branding"

    display_name: Mapped[dict[str, str]]
    logo_url: Mapped[str | None] = mapped_column(String(2048))
    primary_colour: Mapped[str] = mapped_column(String(7), default=DEFAULT_PRIMARY)
    accent_colour: Mapped[str] = mapped_column(String(7), default=DEFAULT_ACCENT)
    contact_email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32))
    website: Mapped[str | None] = mapped_column(String(2048))
    privacy_url: Mapped[str | None] = mapped_column(String(2048))
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    tenant: Mapped[Tenant] = relationship(back_populates="branding", lazy="raise")

    __mapper_args__ = {"version_id_col": version}


LANGUAGE_FIELDS = ("names", "languages", "default_language", "time_zone")
"""The tenant's own fields that its branding shows and its admins set."""
BRANDING_FIELDS = (
    "display_name", "logo_url", "primary_colour", "accent_colour",
    "contact_email", "phone", "website", "privacy_url",
)
