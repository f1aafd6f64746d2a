"""Erasure (GDPR Art. 17) and retention: what names a person goes, except what a legal retention
period still holds, which goes when the period ends.

A case is pseudonymised, not deleted: its number, service, status, dates and fee stay (the
municipality's statistics and the audit trail keep their meaning), while its form, the notes of
its steps, its messages, its documents, its events and stored answers go, and it is moved to a
pseudonym (a person row with no name or address). The person's register entry, life events,
proactive actions and preferences in the municipality are deleted. The account itself goes once
nothing any municipality holds needs it. Callers commit; files are removed after the commit."""

import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Executable, delete, event, or_, select, update
from sqlalchemy.orm import Session

from townhall.appointments.models import Appointment
from townhall.auth.models import ExternalIdentity, Membership, User, UserStatus
from townhall.cases.models import Case, CaseDocument, CaseMessage, CaseStep, Certificate
from townhall.idempotency import IdempotencyRecord
from townhall.ids import new_id
from townhall.outbox.models import Delivery, OutboxEvent
from townhall.proactive.models import LifeEvent, ProactiveAction, ProactivePreference
from townhall.rules.models import Resident
from townhall.services.models import CatalogEntry
from townhall.services.registry import SERVICE_TYPES
from townhall.storage import Storage

BATCH = 200  # cases pseudonymised per transaction by the retention run: locks stay short


@dataclass(frozen=True)
class Kept:
    case: str  # its reference
    service: str
    until: str | None  # the day its retention ends (None: still open, the period starts when it closes)
    reason: str


@dataclass
class Erasure:
    erased: Counter[str] = field(default_factory=Counter)
    kept: list[Kept] = field(default_factory=list)
    account: str = "kept"  # "pseudonymised" when nothing held needs it any more


def _count(session: Session, statement: Executable) -> int:
    """Rows a DELETE or UPDATE touched."""
    return int(cast(CursorResult[Any], session.execute(statement)).rowcount or 0)


def _after_commit(session: Session, action: Callable[[], None]) -> None:
    event.listen(session, "after_commit", lambda _session: action(), once=True)


def _pseudonym(session: Session) -> User:
    """A person row that names no one: what pseudonymised cases point to."""
    ident = new_id()
    person = User(id=ident, email="", email_key=f"pseudonym:{ident}", display_name="", status=UserStatus.DISABLED)
    session.add(person)
    session.flush()
    return person


def pseudonymise_cases(session: Session, storage: Storage, tenant_id: uuid.UUID, cases: Iterable[Case],
                       now: datetime, pseudonym: User | None = None) -> Counter[str]:
    """What in these cases names their citizen goes; one pseudonym per citizen."""
    counts: Counter[str] = Counter()
    by_citizen: dict[uuid.UUID, User] = {}
    for case in cases:
        citizen = case.citizen_id
        stand_in = pseudonym or by_citizen.get(citizen) or by_citizen.setdefault(citizen, _pseudonym(session))
        ids, actor = [case.id], f"user:{citizen}"
        session.execute(update(CaseStep).where(CaseStep.tenant_id == tenant_id, CaseStep.case_id.in_(ids))
                        .values(note=None))
        session.execute(update(CaseStep).where(CaseStep.tenant_id == tenant_id, CaseStep.case_id.in_(ids),
                                               CaseStep.actor == actor).values(actor=f"user:{stand_in.id}"))
        counts["messages"] += _count(session, update(CaseMessage).where(
            CaseMessage.tenant_id == tenant_id, CaseMessage.case_id.in_(ids)).values(
            body="", author=f"user:{stand_in.id}"))
        documents = session.scalars(select(CaseDocument).where(CaseDocument.tenant_id == tenant_id,
                                                               CaseDocument.case_id.in_(ids))).all()
        session.execute(update(Certificate).where(Certificate.tenant_id == tenant_id, Certificate.case_id.in_(ids))
                        .values(document_id=None))
        for document in documents:
            key = document.storage_key
            _after_commit(session, lambda key=key: storage.delete(key))  # type: ignore[misc]
            session.delete(document)
        counts["documents"] += len(documents)
        events = select(OutboxEvent.id).where(OutboxEvent.tenant_id == tenant_id, OutboxEvent.subject == str(case.id))
        session.execute(delete(Delivery).where(Delivery.tenant_id == tenant_id, Delivery.event_id.in_(events)))
        counts["events"] += _count(session, delete(OutboxEvent).where(
            OutboxEvent.tenant_id == tenant_id, OutboxEvent.subject == str(case.id)))
        session.execute(update(Appointment).where(Appointment.tenant_id == tenant_id, Appointment.case_id == case.id)
                        .values(citizen_id=stand_in.id))
        case.form, case.citizen_id, case.pseudonymised_at = {}, stand_in.id, now
        counts["cases"] += 1
    session.flush()
    counts["stored answers"] += _forget_answers(session, tenant_id, {str(c.id) for c in cases})
    return counts


def _forget_answers(session: Session, tenant_id: uuid.UUID, ids: set[str]) -> int:
    """Stored answers of retried requests (Idempotency-Key) that showed these cases."""
    if not ids:
        return 0
    return _count(session, delete(IdempotencyRecord).where(
        IdempotencyRecord.tenant_id == tenant_id, IdempotencyRecord.body["id"].as_string().in_(ids)))


def retention_of(session: Session, tenant_id: uuid.UUID, service: str) -> int:
    entry = session.get(CatalogEntry, (tenant_id, service))
    known = SERVICE_TYPES.get(service)
    return entry.retention_days if entry is not None else (known.retention.days if known else 730)


def _closed(case: Case) -> bool:
    service = SERVICE_TYPES.get(case.service)
    return service is not None and case.status in service.workflow.terminal


def erase(session: Session, storage: Storage, tenant_id: uuid.UUID, person: User, now: datetime,
          holds_elsewhere: Callable[[], bool]) -> Erasure:
    """Erase what this municipality holds on `person` but what retention still holds (`kept`, with
    the day it ends). `holds_elsewhere`: whether another municipality still holds anything of theirs."""
    result = Erasure()
    person.erasure_requested_at = now
    cases = session.scalars(select(Case).where(Case.tenant_id == tenant_id, Case.citizen_id == person.id)
                            .order_by(Case.created_at)).all()
    due = []
    for case in cases:
        if not _closed(case):
            result.kept.append(Kept(case.reference, case.service, None,
                                    "still being handled; pseudonymised when its retention period ends after closing"))
            continue
        until = case.updated_at + timedelta(days=retention_of(session, tenant_id, case.service))
        if until > now:
            why = SERVICE_TYPES[case.service].retention.why
            result.kept.append(Kept(case.reference, case.service, until.date().isoformat(),
                                    f"retention of {case.service}: {why}"))
        else:
            due.append(case)
    result.erased += pseudonymise_cases(session, storage, tenant_id, due, now)
    held = {case.id for case in cases if case not in due}
    theirs = delete(Appointment).where(Appointment.tenant_id == tenant_id, Appointment.citizen_id == person.id)
    if held:  # an appointment for a case retention holds stays with it
        theirs = theirs.where(or_(Appointment.case_id.is_(None), Appointment.case_id.not_in(held)))
    result.erased["appointments"] = _count(session, theirs)
    result.erased += _forget_person(session, tenant_id, person)
    session.flush()
    if not holds_anything(session, tenant_id, person.id) and not holds_elsewhere():
        forget_account(session, person)
        result.account = "pseudonymised"
    session.flush()
    result.erased = +result.erased
    return result


def _forget_person(session: Session, tenant_id: uuid.UUID, person: User) -> Counter[str]:
    counts: Counter[str] = Counter()
    refs = list(session.scalars(select(Resident.person_ref).where(Resident.tenant_id == tenant_id,
                                                                   Resident.user_id == person.id)))
    if refs:
        counts["life events"] = _count(session, delete(LifeEvent).where(
            LifeEvent.tenant_id == tenant_id, LifeEvent.person_ref.in_(refs)))
    counts["proactive actions"] = _count(session, delete(ProactiveAction).where(
        ProactiveAction.tenant_id == tenant_id,
        or_(ProactiveAction.user_id == person.id, ProactiveAction.person_ref.in_(refs or [""]))))
    counts["proactive preferences"] = _count(session, delete(ProactivePreference).where(
        ProactivePreference.tenant_id == tenant_id, ProactivePreference.user_id == person.id))
    counts["register entries"] = _count(session, delete(Resident).where(
        Resident.tenant_id == tenant_id, Resident.user_id == person.id))
    counts["e-mails"] = _count(session, delete(Delivery).where(
        Delivery.tenant_id == tenant_id, Delivery.recipient_id == person.id))
    return counts


def forget_account(session: Session, person: User) -> None:
    """The account names no one any more and can no longer sign in (its sign-ins elsewhere go)."""
    person.email, person.email_key, person.display_name = "", f"erased:{person.id}", ""
    person.password_hash, person.preferred_language, person.status = None, None, UserStatus.DISABLED
    session.execute(delete(ExternalIdentity).where(ExternalIdentity.user_id == person.id))


def holds_anything(session: Session, tenant_id: uuid.UUID, person_id: uuid.UUID) -> bool:
    """Does this municipality hold a case, appointment or register entry of the person, or are they
    its staff (memberships are the municipality's to end, not an erasure's)?"""
    return any(session.scalars(select(model.tenant_id).where(model.tenant_id == tenant_id, column == person_id)
                               .limit(1)).first() is not None
               for model, column in ((Case, Case.citizen_id), (Appointment, Appointment.citizen_id),
                                     (Resident, Resident.user_id), (Membership, Membership.user_id)))


def due_for_retention(session: Session, tenant_id: uuid.UUID, service: str, days: int, now: datetime,
                      limit: int = BATCH) -> list[Case]:
    terminal = sorted(SERVICE_TYPES[service].workflow.terminal)
    return list(session.scalars(select(Case).where(
        Case.tenant_id == tenant_id, Case.service == service, Case.status.in_(terminal),
        Case.pseudonymised_at.is_(None), Case.updated_at < now - timedelta(days=days)).limit(limit)))


def summary(result: Erasure) -> dict[str, Any]:
    return {"erased": dict(sorted(result.erased.items())), "account": result.account,
            "kept": [vars(kept) for kept in result.kept]}
