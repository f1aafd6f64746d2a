"""Reading and verifying a municipality's audit trail."""

import base64
import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from joserfc import jws
from joserfc.errors import BadSignatureError, DecodeError
from joserfc.jwk import ECKey
from sqlalchemy import Row, Text, cast, select
from sqlalchemy.orm import Session

from townhall.audit.chain import GENESIS, canonical, link
from townhall.audit.models import AuditChain, AuditEntry, AuditSeal

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
    seals: int = 0  # signed heads checked against the chain
    unsigned_seals: int = 0  # of those, whose signing key is no longer known: their content only


# The summary as its stored JSON text (JSONB's on PostgreSQL), decoded by _walk with json.loads
# itself: the same values the column type would give, without the driver's per-row decoder.
_COLUMNS = (AuditEntry.seq, AuditEntry.time, AuditEntry.actor, AuditEntry.action, AuditEntry.object,
            cast(AuditEntry.summary, Text), AuditEntry.previous, AuditEntry.hash)


_Entry = Row[int, datetime, str, str, str, str, str, str]


def _all(session: Session, tenant_id: uuid.UUID) -> Iterator[_Entry]:
    """Every entry oldest first, as plain rows a batch at a time (a million need not be in memory);
    Core statements on the session's connection, without the ORM's result machinery."""
    connection, after = session.connection(), 0
    while True:
        batch = connection.execute(select(*_COLUMNS).where(AuditEntry.tenant_id == tenant_id, AuditEntry.seq > after)
                                   .order_by(AuditEntry.seq).limit(BATCH)).all()
        yield from batch
        if len(batch) < BATCH:
            return
        after = batch[-1][0]


@dataclass(frozen=True)
class _Signed:
    seq: int
    hash: str
    sealed_at: datetime
    checked: bool  # its signature verified with a key the platform still knows


def _signed_heads(session: Session, tenant_id: uuid.UUID,
                  keys: Mapping[str, ECKey]) -> tuple[dict[int, _Signed], str | None, int | None]:
    """What each kept seal's JWS says was the head (its payload, not the row's copy), or the first
    seal that is not what it claims to be."""
    found: dict[int, _Signed] = {}
    for seal in session.scalars(select(AuditSeal).where(AuditSeal.tenant_id == tenant_id).order_by(AuditSeal.seq)):
        key = keys.get(seal.kid)
        try:
            if key is not None:
                payload = json.loads(jws.deserialize_compact(seal.jws, key).payload)
            else:  # the key was retired and forgotten: the content can still be compared
                payload = json.loads(base64.urlsafe_b64decode(seal.jws.split(".")[1] + "=="))
        except (BadSignatureError, ValueError, IndexError, DecodeError):
            return found, f"the head signed at entry {seal.seq} has no valid signature", seal.seq
        if payload.get("tenant") != str(tenant_id) or not isinstance(payload.get("seq"), int):
            return found, f"the head signed at entry {seal.seq} is another chain's", seal.seq
        found[payload["seq"]] = _Signed(payload["seq"], str(payload.get("hash")), seal.sealed_at, key is not None)
    return found, None, None


def verify(session: Session, tenant_id: uuid.UUID, keys: Mapping[str, ECKey] | None = None) -> Verdict:
    """Recompute the chain from its first entry: numbers 1, 2, 3 … without a gap, each entry's hash
    from its content and the previous hash, the last one equal to the chain's head, and every
    signed head (`keys`: the platform's signing keys by `kid`) equal to the entry it signed."""
    signed, bad_seal, bad_at = _signed_heads(session, tenant_id, keys or {})
    walked = _walk(session, tenant_id, signed)
    if walked.broken_at is not None:
        return walked
    count, previous = walked.entries, walked.head
    if bad_seal is not None:
        return Verdict(count, bad_at, bad_seal, previous)
    beyond = [seq for seq in signed if seq > count]
    if beyond:
        return Verdict(count, count + 1, f"entries up to {max(beyond)} were signed and are not there", previous)
    head = session.scalars(select(AuditChain).where(AuditChain.tenant_id == tenant_id)).first()
    if head is not None and (head.seq, head.hash) != (count, previous):
        return Verdict(count, count + 1 if head.seq > count else head.seq,
                       "the chain's head names entries that are not there" if head.seq > count
                       else "the chain's head does not match its last entry", previous)
    return Verdict(count, None, None, previous, len(signed), sum(1 for seal in signed.values() if not seal.checked))


def _walk(session: Session, tenant_id: uuid.UUID, signed: Mapping[int, _Signed]) -> Verdict:
    """Every entry in order, against its number, its link, its hash and the head signed there."""
    expected_seq, previous, count = 1, GENESIS, 0
    for seq, time, actor, action, object_, summary, stored_previous, stored_hash in _all(session, tenant_id):
        if seq != expected_seq:
            return Verdict(count, expected_seq, f"entry {expected_seq} is missing", previous)
        if stored_previous != previous:
            return Verdict(count, seq, "its link to the previous entry does not match", previous)
        recomputed = link(previous, canonical(seq, time, actor, action, object_, json.loads(summary)))
        if recomputed != stored_hash:
            return Verdict(count, seq, "its content does not match its hash", previous)
        sealed = signed.get(seq)
        if sealed is not None and sealed.hash != recomputed:
            return Verdict(count, seq, "the chain up to here was rewritten: it no longer matches the head "
                                       f"signed at {sealed.sealed_at:%Y-%m-%d %H:%M:%S} UTC", previous)
        previous, expected_seq, count = recomputed, expected_seq + 1, count + 1
    return Verdict(count, None, None, previous)
