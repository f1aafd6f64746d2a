"""The audit trail's rows: each municipality's entries, numbered without gaps, and the head of its
chain (the last number and hash), which every append locks so that appends queue up in order."""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from townhall.db import Base, TenantOwned


class AuditEntry(TenantOwned, Base):
    """Who did what to which object, when; `hash` = SHA-256(`previous` || the canonical entry).
    The app's database role may only insert these (grants and a trigger, migration 0022)."""

    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    time: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(200))
    object: Mapped[str] = mapped_column(String(300))
    summary: Mapped[dict[str, Any]]
    previous: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index(None, "tenant_id", "time"),)


class AuditChain(TenantOwned, Base):
    """The head of one municipality's chain: made with the municipality, updated by every append."""

    __tablename__ = "audit_chains"

    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class AuditSeal(TenantOwned, Base):
    """A chain's head as the platform signed it (a JWS with its signing key): a rewrite of the whole
    tail, head included, no longer matches what was signed. Kept, never changed."""

    __tablename__ = "audit_seals"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime]
    kid: Mapped[str] = mapped_column(String(64))
    jws: Mapped[str] = mapped_column(Text)
