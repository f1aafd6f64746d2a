"""The outbox of events, webhook subscriptions, one delivery per event and subscription (or person
to e-mail), and every attempt made."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from townhall.clock import utcnow
from townhall.db import Base, TenantOwned
from townhall.ids import new_id


class OutboxEvent(TenantOwned, Base):
    """An event written in the same transaction as the change it tells of; a worker delivers it."""

    __tablename__ = "outbox_events"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    type: Mapped[str] = mapped_column(String(80))
    subject: Mapped[str] = mapped_column(String(80))
    time: Mapped[datetime] = mapped_column(default=utcnow)
    data: Mapped[dict[str, Any]]
    delivered_at: Mapped[datetime | None]

    __table_args__ = (Index(None, "delivered_at", "time"),)


class Subscription(TenantOwned, Base):
    """A partner's endpoint for some event types (none listed: all). The signing secret must be
    usable to sign, so it is stored encrypted (not hashed) with the platform's key."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    url: Mapped[str] = mapped_column(String(2048))
    event_types: Mapped[list[str]]
    active: Mapped[bool] = mapped_column(default=True)
    secret: Mapped[str] = mapped_column(Text)  # encrypted
    previous_secret: Mapped[str | None] = mapped_column(Text)  # encrypted; still signs until previous_until
    previous_until: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class Delivery(TenantOwned, Base):
    """One event for one subscription (channel `webhook`) or one person (channel `email`): retried
    with back-off until delivered or dead (24 hours)."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(10), default="webhook")
    subscription_id: Mapped[uuid.UUID | None]
    recipient_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID]
    event_type: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]]  # the CloudEvent, fixed at fan-out: every attempt sends the same bytes
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending, delivered, dead
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "subscription_id"],
                             ["webhook_subscriptions.tenant_id", "webhook_subscriptions.id"], ondelete="CASCADE"),
        Index(None, "tenant_id", "status", "next_attempt_at"),
        Index(None, "tenant_id", "subscription_id", "id"),
    )


class Attempt(TenantOwned, Base):
    """One try: when, the answer's status (or the error), how long it took."""

    __tablename__ = "webhook_attempts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    delivery_id: Mapped[uuid.UUID]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(500))
    latency_ms: Mapped[int]

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "delivery_id"], ["webhook_deliveries.tenant_id", "webhook_deliveries.id"],
                             ondelete="CASCADE"),
        Index(None, "tenant_id", "delivery_id", "at"),
    )





class EmailTemplate(TenantOwned, Base):
    """A municipality's own words for one event's e-mail, in the languages it rewrote (the others
    keep the platform's). The row stays when every language is reset, so its version only grows."""

    __tablename__ = "email_templates"

    event_type: Mapped[str] = mapped_column(String(80), primary_key=True)
    texts: Mapped[dict[str, Any]]  # language → {"subject", "body"}
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
