"""The proactive side: life events received, what the municipality did on its own initiative, and
the kinds of action each citizen opted out of. The resident register the events keep is
`townhall.rules.models.Resident`, since case rules read it too."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from townhall.clock import utcnow
from townhall.db import Base, TenantOwned
from townhall.ids import new_id


class LifeEvent(TenantOwned, Base):
    """A life event received from a source register, once per id; `outcome` is replayed to a resend."""

    __tablename__ = "life_events"

    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    type: Mapped[str] = mapped_column(String(80))
    source: Mapped[str] = mapped_column(String(300))
    person_ref: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]]
    outcome: Mapped[dict[str, Any]]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProactiveAction(TenantOwned, Base):
    """What the municipality did on its own initiative, and the rule that made it do so; at most one
    per rule, person and trigger (an event, or a due date the scan found)."""

    __tablename__ = "proactive_actions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    rule_id: Mapped[uuid.UUID]
    rule_version: Mapped[int]
    person_ref: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    trigger_key: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(10))  # inform, offer, open
    # informed, offered, accepted, declined, opened, opted_out, unreachable, failed
    status: Mapped[str] = mapped_column(String(20))
    service: Mapped[str | None] = mapped_column(String(63))
    form: Mapped[dict[str, Any]]
    message: Mapped[str] = mapped_column(Text, default="")
    case_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("tenant_id", "rule_id", "person_ref", "trigger_key"),
        Index(None, "tenant_id", "user_id", "id"),
    )


class ProactivePreference(TenantOwned, Base):
    """The kinds of proactive action (inform, offer, open) a citizen opted out of, per municipality."""

    __tablename__ = "proactive_preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    opted_out: Mapped[list[str]]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
