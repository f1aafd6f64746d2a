"""Rules as data (templates, a municipality's rules and their immutable versions), the decisions they
made on cases, and the resident register the rules read of an applicant (life events keep it:
`townhall.proactive`)."""

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from townhall.clock import utcnow
from townhall.db import Base, TenantOwned
from townhall.ids import new_id


class RuleTemplate(Base):
    """A rule the consortium publishes; every publication of a slug is a new, immutable number."""

    __tablename__ = "rule_templates"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(63))
    number: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))
    service: Mapped[str] = mapped_column(String(63))
    trigger: Mapped[str] = mapped_column(String(63), default="")
    expression: Mapped[str] = mapped_column(Text)
    examples: Mapped[list[dict[str, Any]]]
    reason: Mapped[dict[str, str]]
    action: Mapped[dict[str, Any]]
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("slug", "number"),)


class Rule(TenantOwned, Base):
    """One rule of a municipality: its kind, the service it is about and (proactive rules) the life
    event that triggers it; the versions hold the expressions, one of them active."""

    __tablename__ = "rules"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(20))
    service: Mapped[str] = mapped_column(String(63))
    trigger: Mapped[str] = mapped_column(String(63), default="")
    active_version: Mapped[int | None]
    latest_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)  # of this row: the ETag

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (UniqueConstraint("tenant_id", "kind", "service", "trigger"),)


class RuleVersion(TenantOwned, Base):
    """An immutable version: its own expression (an override) or a template's, copied with its id."""

    __tablename__ = "rule_versions"

    rule_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("rule_templates.id", ondelete="RESTRICT"))
    expression: Mapped[str] = mapped_column(Text)
    examples: Mapped[list[dict[str, Any]]]
    reason: Mapped[dict[str, str]]
    action: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "rule_id"], ["rules.tenant_id", "rules.id"], ondelete="CASCADE"),
    )


class CaseDecision(TenantOwned, Base):
    """What decided a case's eligibility, fee, routing or deadline: a rule version, or the service."""

    __tablename__ = "case_decisions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(20))
    rule_id: Mapped[uuid.UUID | None]
    rule_version: Mapped[int | None]
    source: Mapped[str] = mapped_column(String(80))  # "rule", "template <slug> #<n>" or "service"
    result: Mapped[dict[str, Any]]
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "case_id"], ["cases.tenant_id", "cases.id"], ondelete="CASCADE"),
        Index(None, "tenant_id", "case_id"),
    )


class Resident(TenantOwned, Base):
    """What the rules need to know of a resident, kept from life events. The upstream register
    (the national register) stays the source of truth; this is a working copy."""

    __tablename__ = "residents"

    person_ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    birth_date: Mapped[date | None]
    address: Mapped[dict[str, Any]]
    resident: Mapped[bool] = mapped_column(default=True)
    eid_expires_on: Mapped[date | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (Index(None, "tenant_id", "eid_expires_on"), Index(None, "tenant_id", "birth_date"))
