"""Cases, their timeline, per-year reference counters, certificates, messages and documents."""

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from townhall.auth.models import Team, User
from townhall.clock import utcnow
from townhall.db import Base, TenantOwned
from townhall.ids import new_id


class Case(TenantOwned, Base):
    __tablename__ = "cases"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    reference: Mapped[str] = mapped_column(String(40))
    service: Mapped[str] = mapped_column(String(63))
    status: Mapped[str] = mapped_column(String(40))
    form: Mapped[dict[str, Any]]
    citizen_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    due_on: Mapped[date]
    fee_cents: Mapped[int]
    possible_duplicate_of: Mapped[str | None] = mapped_column(String(40))  # a reference
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("teams.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(default=1)
    pseudonymised_at: Mapped[datetime | None]  # retention ended or erasure: nothing in it names the person

    # Loaded in the same query as the case (both are small platform-wide rows): lists stay one query.
    assignee: Mapped[User | None] = relationship(lazy="joined", foreign_keys=[assignee_id])
    team: Mapped[Team | None] = relationship(lazy="joined")

    @property
    def assignee_email(self) -> str | None:
        return self.assignee.email if self.assignee else None

    @property
    def team_slug(self) -> str | None:
        return self.team.slug if self.team else None

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("tenant_id", "reference"),
        Index(None, "tenant_id", "assignee_id", "id"),  # a worker's own queue
        Index(None, "tenant_id", "citizen_id", "id"),  # a citizen's own cases
        Index(None, "tenant_id", "service", "status", "id"),  # work queues per service
    )


class CaseStep(TenantOwned, Base):
    """One entry of a case's timeline: who did what when, and whether the citizen sees it."""

    __tablename__ = "case_steps"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(40))
    to_status: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    visible_to_citizen: Mapped[bool]

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "case_id"], ["cases.tenant_id", "cases.id"], ondelete="CASCADE"),
        Index(None, "tenant_id", "case_id", "at"),
    )


class ReferenceCounter(TenantOwned, Base):
    """The last case number handed out in a year (references are per municipality and year)."""

    __tablename__ = "case_reference_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int]


class Certificate(TenantOwned, Base):
    """An issued certificate. Its verification code is printed on the document; anyone can check
    it. It is a lookup code (120 random bits), not a credential: it tells only that the certificate is
    genuine, never who it is about."""

    __tablename__ = "certificates"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(40))
    verification_code: Mapped[str] = mapped_column(String(32))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    document_id: Mapped[uuid.UUID | None]  # the PDF among the case's documents

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "case_id"], ["cases.tenant_id", "cases.id"], ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "verification_code"),
    )


class CaseMessage(TenantOwned, Base):
    """A message between the citizen and the staff handling the case."""

    __tablename__ = "case_messages"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    author: Mapped[str] = mapped_column(String(200))
    from_citizen: Mapped[bool]
    body: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "case_id"], ["cases.tenant_id", "cases.id"], ondelete="CASCADE"),
        Index(None, "tenant_id", "case_id", "at"),
    )


class CaseDocument(TenantOwned, Base):
    """A file attached to a case; its bytes are in storage under `storage_key`."""

    __tablename__ = "case_documents"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID]
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255))
    uploaded_by: Mapped[str] = mapped_column(String(200))
    from_citizen: Mapped[bool]
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "case_id"], ["cases.tenant_id", "cases.id"], ondelete="CASCADE"),
        Index(None, "tenant_id", "case_id", "at"),
    )
