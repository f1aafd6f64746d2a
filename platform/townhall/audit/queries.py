"""Reading and verifying a municipality's audit trail."""

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from townhall.audit.chain import GENESIS, canonical, link
from townhall.audit.models import AuditChain, AuditEntry

BATCH = 5000  # entries read at a time while verifying


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    object_: str | None = None  # a prefix: `case:` or one object
    action: str | None = None  # a prefix: `POST` or one route
    since: datetime | None = None
    until: datetime | None = None


def audit_entries(session: Session, tenant_id: uuid.UUID, wanted: AuditFilter, after: int | None,
                  limit: int) -> Sequence[AuditEntry]:
    """Oldest first from the entry after `after` (its sequence number)."""
    query = select(AuditEntry).where(AuditEntry.tenant_id == tenant_id)
    if wanted.actor is not None:
        query = query.where(AuditEntry.actor == wanted.actor)
    if wanted.object_ is not None:
        query = query.where(AuditEntry.object.startswith(wanted.object_, autoescape=True))
    if wanted.action is not None:
        query = query.where(AuditEntry.action.startswith(wanted.action, autoescape=True))
    if wanted.since is not None:
        query = query.where(AuditEntry.time >= wanted.since)
    if wanted.until is not None:
        query = query.where(AuditEntry.time < wanted.until)
    if after is not None:
        query = query.where(AuditEntry.seq > after)
    return session.scalars(query.order_by(AuditEntry.seq).limit(limit)).all()


@dataclass(frozen=True)
class Verdict:
    entries: int
    broken_at: int | None  # the first sequence number whose entry, link or number is wrong
    reason: str | None
    head: str  # the last hash recomputed


def _all(session: Session, tenant_id: uuid.UUID) -> Iterator[AuditEntry]:
    after = 0
    while True:
        batch = session.scalars(select(AuditEntry).where(AuditEntry.tenant_id == tenant_id, AuditEntry.seq > after)
                                .order_by(AuditEntry.seq).limit(BATCH)).all()
        yield from batch
        if len(batch) < BATCH:
            return
        after = batch[-1].seq
        session.expunge_all()  # a million entries need not stay in memory


def verify(session: Session, tenant_id: uuid.UUID) -> Verdict:
    """Recompute the chain from its first entry: numbers 1, 2, 3 … without a gap, each entry's hash
    from its content and the previous hash, and the last one equal to the chain's head."""
    expected_seq, previous, count = 1, GENESIS, 0
    for entry in _all(session, tenant_id):
        if entry.seq != expected_seq:
            return Verdict(count, expected_seq, f"entry {expected_seq} is missing", previous)
        if entry.previous != previous:
            return Verdict(count, entry.seq, "its link to the previous entry does not match", previous)
        recomputed = link(previous, canonical(entry.seq, entry.time, entry.actor, entry.action, entry.object,
                                              entry.summary))
        if recomputed != entry.hash:
            return Verdict(count, entry.seq, "its content does not match its hash", previous)
        previous, expected_seq, count = recomputed, expected_seq + 1, count + 1
    head = session.scalars(select(AuditChain).where(AuditChain.tenant_id == tenant_id)).first()
    if head is not None and (head.seq, head.hash) != (count, previous):
        return Verdict(count, count + 1 if head.seq > count else head.seq,
                       "the chain's head names entries that are not there" if head.seq > count
                       else "the chain's head does not match its last entry", previous)
    return Verdict(count, None, None, previous)
