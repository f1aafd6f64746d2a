"""Appending to a municipality's audit trail, in the transaction of the change it records."""

import json
import logging
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from joserfc import jws
from psycopg import Pipeline
from psycopg.types.json import Jsonb
from sqlalchemy import Table, bindparam, insert, select, text
from sqlalchemy.orm import Session

from townhall.audit.chain import GENESIS, SEAL_TYPE, canonical_around_seq, link
from townhall.audit.models import AuditChain, AuditEntry, AuditSeal
from townhall.auth.keys import private_key
from townhall.auth.models import SigningKey
from townhall.clock import utcnow
from townhall.db import JsonDocument, UTCDateTime

log = logging.getLogger("townhall.audit")

# One round trip on PostgreSQL: lock the head, number and hash the entry (sha256 of the previous
# hash and the canonical text, the number put in between), move the head, insert the entry.
_ENTRIES = cast(Table, AuditEntry.__table__)
_APPEND_SQL = """
WITH head AS (
    SELECT seq, hash FROM audit_chains WHERE tenant_id = %(tenant)s FOR UPDATE
), moved AS (
    UPDATE audit_chains AS c
    SET seq = head.seq + 1,
        hash = encode(sha256(convert_to(head.hash || %(before)s || (head.seq + 1)::text || %(after)s, 'UTF8')), 'hex')
    FROM head WHERE c.tenant_id = %(tenant)s
    RETURNING c.seq, c.hash, head.hash AS previous
)
INSERT INTO audit_entries (tenant_id, seq, time, actor, action, object, summary, previous, hash)
SELECT %(tenant)s, seq, %(time)s, %(actor)s, %(action)s, %(object)s, %(summary)s, previous, hash FROM moved
RETURNING seq
"""
_APPEND = text(re.sub(r"%\((\w+)\)s", r":\1", _APPEND_SQL)).bindparams(
    bindparam("time", type_=UTCDateTime()), bindparam("summary", type_=JsonDocument))


def start_chain(session: Session, tenant_id: uuid.UUID) -> None:
    """A new municipality's empty chain (its head row exists before any append needs to lock it)."""
    session.add(AuditChain(tenant_id=tenant_id, seq=0, hash=GENESIS))
    session.flush()


@dataclass(frozen=True)
class Entry:
    """An entry before the chain numbers it."""

    time: datetime
    actor: str
    action: str
    object: str
    summary: Mapping[str, Any]

    @classmethod
    def now(cls, actor: str, action: str, object_: str, summary: Mapping[str, Any]) -> "Entry":
        return cls(utcnow(), actor[:200], action[:200], object_[:300], dict(summary))


def append(session: Session, tenant_id: uuid.UUID, actor: str, action: str, object_: str,
           summary: Mapping[str, Any]) -> int:
    """The next entry's number. The chain's head is locked (PostgreSQL: FOR UPDATE) until the
    caller commits, so entries of one municipality are numbered without gaps and in commit order."""
    entry = Entry.now(actor, action, object_, summary)
    if session.get_bind().dialect.name == "postgresql":
        session.flush()
        seq = session.execute(_APPEND, _append_parameters(tenant_id, entry)).scalar()
        if seq is not None:
            return int(seq)
    return append_many(session, tenant_id, [entry])[-1]


def _append_parameters(tenant_id: uuid.UUID, entry: Entry) -> dict[str, Any]:
    """_APPEND's values: the canonical text around the number, which only the locked head knows."""
    before, after = canonical_around_seq(entry.time, entry.actor, entry.action, entry.object, entry.summary)
    return {"tenant": tenant_id, "before": before, "after": after, "time": entry.time, "actor": entry.actor,
            "action": entry.action, "object": entry.object, "summary": dict(entry.summary)}


def append_and_commit(session: Session, tenant_id: uuid.UUID, entry: Entry) -> None:
    """Append `entry` and commit the session's transaction. On PostgreSQL the append and the COMMIT
    travel in one round trip (psycopg's pipeline mode): a write request waits for the database once
    less, and the chain's head, which the append locks, is held only for the commit itself."""
    connection = session.connection()
    # Only a transaction of the session's own: within a savepoint (a test's) the COMMIT is not its to send.
    if connection.dialect.name != "postgresql" or connection.in_nested_transaction() or not Pipeline.is_supported():
        append(session, tenant_id, entry.actor, entry.action, entry.object, entry.summary)
        session.commit()
        return
    session.flush()
    driver: Any = connection.connection.driver_connection
    with driver.pipeline():
        driver.execute(_APPEND_SQL, _append_parameters(tenant_id, entry) | {"summary": Jsonb(dict(entry.summary))})
        driver.commit()
    session.commit()  # the transaction is over: the driver sends nothing more, the session's hooks run


def append_many(session: Session, tenant_id: uuid.UUID, entries: Sequence[Entry]) -> list[int]:
    """Entries in their order, numbered and hashed here under one lock of the head, inserted in one
    statement: SQLite (one writer at a time), a municipality made before the trail existed, and the
    batches of reads (townhall.audit.read_log)."""
    head = session.scalars(select(AuditChain).where(AuditChain.tenant_id == tenant_id).with_for_update()).first()
    if head is None:
        start_chain(session, tenant_id)
        head = session.scalars(select(AuditChain).where(AuditChain.tenant_id == tenant_id)).one()
    rows: list[dict[str, Any]] = []
    seq, previous = head.seq, head.hash
    for entry in entries:
        seq += 1
        before, after = canonical_around_seq(entry.time, entry.actor, entry.action, entry.object, entry.summary)
        hashed = link(previous, f"{before}{seq}{after}".encode())
        rows.append({"tenant_id": tenant_id, "seq": seq, "time": entry.time, "actor": entry.actor,
                     "action": entry.action, "object": entry.object, "summary": dict(entry.summary),
                     "previous": previous, "hash": hashed})
        previous = hashed
    if rows:
        session.execute(insert(_ENTRIES), rows)  # Core: one INSERT of all, no ORM bookkeeping
        head.seq, head.hash = seq, previous
        session.flush()
    return list(range(seq - len(rows) + 1, seq + 1))


def seal(session: Session, tenant_id: uuid.UUID, key: SigningKey, now: datetime) -> AuditSeal | None:
    """Sign the chain's head as it is now, if it moved since it was last signed. The seal is also
    logged (`audit sealed`), so a copy lives outside the database."""
    head = session.scalars(select(AuditChain).where(AuditChain.tenant_id == tenant_id)).first()
    if head is None or head.seq == 0:
        return None
    last = session.scalars(select(AuditSeal.seq).where(AuditSeal.tenant_id == tenant_id)
                           .order_by(AuditSeal.seq.desc()).limit(1)).first()
    if last is not None and last >= head.seq:
        return None
    payload = {"tenant": str(tenant_id), "seq": head.seq, "hash": head.hash, "iat": int(now.timestamp())}
    token = jws.serialize_compact({"alg": key.alg, "kid": key.kid, "typ": SEAL_TYPE},
                                  json.dumps(payload, sort_keys=True, separators=(",", ":")), private_key(key))
    sealed = AuditSeal(tenant_id=tenant_id, seq=head.seq, hash=head.hash, sealed_at=now, kid=key.kid, jws=token)
    session.add(sealed)
    session.flush()
    log.info("audit sealed", extra={"tenant_id": str(tenant_id), "seq": head.seq, "hash": head.hash, "jws": token})
    return sealed
