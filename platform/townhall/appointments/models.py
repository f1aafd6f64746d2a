"""Offices (counters), what they offer and when, appointments, and the seats that cap each slot."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from townhall.clock import utcnow
from townhall.db import Base, TenantOwned
from townhall.ids import new_id


class Office(TenantOwned, Base):
    """A counter of a municipality. Offices are public reference data: any municipality's slot search
    reads them (a read-only policy); only their own municipality changes them."""

    __tablename__ = "offices"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    lat: Mapped[float]
    long: Mapped[float]
    languages: Mapped[list[str]]
    accessibility: Mapped[str] = mapped_column(Text, default="")
    weekly_hours: Mapped[dict[str, Any]]  # {"mon": [["08:30", "12:00"], …], …} in the tenant's time zone
    exceptions: Mapped[dict[str, Any]]  # {"2026-12-24": [["08:30", "12:00"]], "2026-12-31": []}
    regional_holiday: Mapped[str | None] = mapped_column(String(3))  # VLG (11 July), WAL, DG
    time_zone: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class OfficeService(TenantOwned, Base):
    """A service offered at an office: how long a visit takes, how many counters serve it at once,
    how soon and how far ahead one may book."""

    __tablename__ = "office_services"

    office_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    service: Mapped[str] = mapped_column(String(63), primary_key=True)
    duration_minutes: Mapped[int]
    counters: Mapped[int]
    lead_minutes: Mapped[int]
    horizon_days: Mapped[int]

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "office_id"], ["offices.tenant_id", "offices.id"], ondelete="CASCADE"),
        Index(None, "service"),
    )


class RegionalService(TenantOwned, Base):
    """The office's municipality (the tenant) lets citizens of another municipality book this service
    at this office: a regional counter."""

    __tablename__ = "regional_services"

    office_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    service: Mapped[str] = mapped_column(String(63), primary_key=True)
    served_tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"),
                                                        primary_key=True)

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "office_id"], ["offices.tenant_id", "offices.id"], ondelete="CASCADE"),
        Index(None, "served_tenant_id", "service"),
    )


class Appointment(TenantOwned, Base):
    """A citizen's visit, owned by the citizen's municipality; the office may belong to another
    (regional counter), whose staff may read it (a read-only policy on `office_tenant_id`)."""

    __tablename__ = "appointments"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    office_tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"))
    office_id: Mapped[uuid.UUID]
    service: Mapped[str] = mapped_column(String(63))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    citizen_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    case_id: Mapped[uuid.UUID | None]
    status: Mapped[str] = mapped_column(String(20), default="booked")  # booked, cancelled
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What a calendar copy needs (DTSTAMP, SEQUENCE): when the visit last changed for the citizen
    # (booked, moved, cancelled) and how often; a reminder changes neither (`version` counts every
    # write of the row, reminders included).
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    sequence: Mapped[int] = mapped_column(default=0)
    reminded_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index(None, "tenant_id", "citizen_id", "starts_at"),
        Index(None, "office_tenant_id", "office_id", "starts_at"),
    )


class SlotSeat(Base):
    """One taken counter of one slot. The primary key is the capacity check: a slot with n counters
    has seats 0 … n-1, and a seat is taken by inserting it, so two bookings can never share one —
    on SQLite and PostgreSQL alike, without locks. No personal data: platform-wide."""

    __tablename__ = "slot_seats"

    office_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(primary_key=True)
    seat: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[uuid.UUID] = mapped_column(unique=True)
