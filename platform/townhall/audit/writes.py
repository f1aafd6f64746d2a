"""Which sessions wrote, and which configuration changes they recorded: what a request's one audit
entry needs to know at its commit point (api.auditing)."""

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, sessionmaker

WROTE = "townhall.wrote"
RECORDED = "townhall.recorded_changes"
READ = "townhall.persons_read"


def track_writes(sessions: sessionmaker[Session]) -> None:
    """Mark a session that flushed rows or ran an INSERT, UPDATE or DELETE of its own; forget when
    its transaction ends (committed or rolled back)."""

    @event.listens_for(sessions, "after_flush")
    def _flushed(current: Session, _context: Any) -> None:
        current.info[WROTE] = True

    @event.listens_for(sessions, "do_orm_execute")
    def _executed(state: ORMExecuteState) -> None:
        if state.is_insert or state.is_update or state.is_delete:
            state.session.info[WROTE] = True

    @event.listens_for(sessions, "after_transaction_end")
    def _ended(current: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:  # the whole transaction, not a savepoint within it
            current.info.pop(WROTE, None)
            current.info.pop(RECORDED, None)
            current.info.pop(READ, None)


def note_change(session: Session, tenant_id: uuid.UUID, subject: str, changes: Mapping[str, Any]) -> None:
    """A configuration change recorded in this transaction, for its audit entry's summary."""
    session.info.setdefault(RECORDED, []).append((tenant_id, {"subject": subject, "changes": dict(changes)}))


def mark_written(session: Session) -> None:
    """For writes the session's events cannot see (a statement run on its connection, or on the
    driver's)."""
    session.info[WROTE] = True


def wrote(session: Session) -> bool:
    return bool(session.info.get(WROTE))


def recorded(session: Session) -> list[tuple[uuid.UUID, dict[str, Any]]]:
    """(municipality, {subject, changes}) for each configuration change of this transaction."""
    return list(session.info.get(RECORDED, []))


def note_read(session: Session, tenant_id: uuid.UUID, person_id: uuid.UUID) -> None:
    """A person's data shown in this transaction (a case, an appointment, an export): a read by
    staff or a partner is audited (api.auditing)."""
    session.info.setdefault(READ, set()).add((tenant_id, person_id))


def persons_read(session: Session) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """(municipality, person) for each person whose data this transaction showed."""
    return set(session.info.get(READ, ()))
