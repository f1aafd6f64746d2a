"""Idempotency keys: a retried create replays the first answer instead of creating twice.

Keys are scoped per tenant and client, so a low-entropy key can never replay another client's
answer. A key is claimed by inserting its row in the same transaction as the work it guards: a
concurrent request with the same key waits for that transaction and then finds the key taken.
Nothing is kept when the work fails. Rows are kept at least 24 hours (a purge job comes later).
"""

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, Session, mapped_column

from townhall.clock import utcnow
from townhall.db import Base, TenantOwned


class IdempotencyRecord(TenantOwned, Base):
    __tablename__ = "idempotency_keys"

    client_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    body: Mapped[dict[str, Any]]
    headers: Mapped[dict[str, str]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def fingerprint(method: str, path: str, payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path} {canonical}".encode()).hexdigest()


def find_record(session: Session, tenant_id: uuid.UUID, client_id: str, key: str) -> IdempotencyRecord | None:
    return session.get(IdempotencyRecord, (tenant_id, client_id, key))


def claim(session: Session, tenant_id: uuid.UUID, client_id: str, key: str, print_: str) -> IdempotencyRecord:
    record = IdempotencyRecord(tenant_id=tenant_id, client_id=client_id, key=key, fingerprint=print_,
                               status_code=0, body={}, headers={})
    session.add(record)
    session.flush()  # a concurrent claim of the same key waits here, then fails
    return record
