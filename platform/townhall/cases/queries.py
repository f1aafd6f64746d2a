"""Read-side lookups for cases, always through what the viewer may see (one SQL predicate)."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from townhall.auth.models import Delegation, TeamMember
from townhall.auth.principal import Viewer
from townhall.auth.scopes import ALL_SERVICES
from townhall.cases.cards import CaseCard, Step, card_of, step_of
from townhall.cases.cards.reads import CARDS, Q, card_select, card_with_timeline, cards, viewer_criteria
from townhall.cases.models import Case, CaseDocument, CaseMessage, CaseStep, Certificate
from townhall.services.registry import SERVICE_TYPES
from townhall.tenancy import ALL_TENANTS

# The two most frequent reads (one case, a page of the queue) give cards from Core statements
# (`townhall.cases.cards.reads`); the others load ORM objects, and readers that show them give cards.
_cases = Case.__table__


def _viewer_params(viewer: Viewer) -> tuple[bool, bool, dict[str, Any]]:
    params: dict[str, Any] = {}
    if viewer.citizen_id is not None:
        params["citizen"] = viewer.citizen_id
    if viewer.only_services is not None:
        params["services"] = sorted(viewer.only_services)
    return "citizen" in params, "services" in params, params


def visible_case(session: Session, tenant_id: uuid.UUID, viewer: Viewer, case_id: uuid.UUID) -> Case | None:
    citizen, services, params = _viewer_params(viewer)
    query = viewer_criteria(select(Case).where(Case.tenant_id == tenant_id, Case.id == case_id), citizen, services)
    return session.scalars(query, params).one_or_none()


def case_with_timeline(session: Session, tenant_id: uuid.UUID, viewer: Viewer,
                       case_id: uuid.UUID) -> tuple[CaseCard, list[Step]] | None:
    """One visible case and its timeline in one query (the most frequent read: one round trip)."""
    citizen, services, params = _viewer_params(viewer)
    return card_with_timeline(session, tenant_id, case_id, citizen, services, params)


NOBODY = "none"


@dataclass(frozen=True)
class QueueFilter:
    """Work-queue filters. `assignee_id`/`team_id`: a UUID, NOBODY (unassigned) or None (any);
    `overdue_on`: only cases still open whose due date lies before that day."""

    status: str | None = None
    service: str | None = None
    assignee_id: uuid.UUID | str | None = None
    team_id: uuid.UUID | str | None = None
    overdue_on: date | None = None


def _filtered(query: Q, wanted: QueueFilter) -> Q:
    if wanted.status is not None:
        query = query.where(_cases.c.status == wanted.status)
    if wanted.service is not None:
        query = query.where(_cases.c.service == wanted.service)
    for column, value in ((_cases.c.assignee_id, wanted.assignee_id), (_cases.c.team_id, wanted.team_id)):
        if value == NOBODY:
            query = query.where(column.is_(None))
        elif value is not None:
            query = query.where(column == value)
    if wanted.overdue_on is not None:
        still_open = or_(*(and_(_cases.c.service == code, _cases.c.status.not_in(sorted(service.workflow.terminal)))
                           for code, service in SERVICE_TYPES.items()))
        query = query.where(_cases.c.due_on < wanted.overdue_on, still_open)
    return query


def cases_page(session: Session, tenant_id: uuid.UUID, viewer: Viewer, *, after: uuid.UUID | None, limit: int,
               wanted: QueueFilter = QueueFilter()) -> list[CaseCard]:
    """Oldest first by id (UUIDv7: time-ordered); one query whatever the page size."""
    citizen, services, params = _viewer_params(viewer)
    query = _filtered(card_select().select_from(CARDS).where(_cases.c.tenant_id == tenant_id), wanted)
    if after is not None:
        query = query.where(_cases.c.id > after)
    return cards(session, viewer_criteria(query, citizen, services).order_by(_cases.c.id).limit(limit), params)


def timeline(session: Session, tenant_id: uuid.UUID, case_id: uuid.UUID, for_citizen: bool) -> list[Step]:
    query = select(CaseStep).where(CaseStep.tenant_id == tenant_id, CaseStep.case_id == case_id)
    if for_citizen:
        query = query.where(CaseStep.visible_to_citizen.is_(True))  # internal notes never reach the citizen
    return [step_of(step) for step in session.scalars(query.order_by(CaseStep.at, CaseStep.id))]


def certificate_by_code(session: Session, tenant_id: uuid.UUID, code: str) -> tuple[Certificate, Case] | None:
    row = session.execute(
        select(Certificate, Case)
        .join(Case, (Case.tenant_id == Certificate.tenant_id) & (Case.id == Certificate.case_id))
        .where(Certificate.tenant_id == tenant_id, Certificate.verification_code == code)
    ).first()
    return (row[0], row[1]) if row else None


def certificate_of_case(session: Session, tenant_id: uuid.UUID, case_id: uuid.UUID) -> Certificate | None:
    return session.scalars(
        select(Certificate).where(Certificate.tenant_id == tenant_id, Certificate.case_id == case_id)
    ).first()


def messages(session: Session, tenant_id: uuid.UUID, case_id: uuid.UUID) -> Sequence[CaseMessage]:
    return session.scalars(
        select(CaseMessage).where(CaseMessage.tenant_id == tenant_id, CaseMessage.case_id == case_id)
        .order_by(CaseMessage.at, CaseMessage.id)
    ).all()


def documents(session: Session, tenant_id: uuid.UUID, case_id: uuid.UUID) -> Sequence[CaseDocument]:
    return session.scalars(
        select(CaseDocument).where(CaseDocument.tenant_id == tenant_id, CaseDocument.case_id == case_id)
        .order_by(CaseDocument.at, CaseDocument.id)
    ).all()


def document(session: Session, tenant_id: uuid.UUID, case_id: uuid.UUID, document_id: uuid.UUID) -> CaseDocument | None:
    found = session.get(CaseDocument, (tenant_id, document_id))
    return found if found is not None and found.case_id == case_id else None


def _page(query: Select[Case], after: uuid.UUID | None, limit: int) -> Select[Case]:
    if after is not None:
        query = query.where(Case.id > after)
    return query.order_by(Case.id).limit(limit)


def own_cases_everywhere(session: Session, person_id: uuid.UUID, *, after: uuid.UUID | None,
                         limit: int) -> list[CaseCard]:
    """A person's own cases in every municipality (oldest first; ids are time-ordered platform-wide).
    Call inside `person_scope`: on PostgreSQL row-level security lets exactly these rows through."""
    query = select(Case).where(Case.citizen_id == person_id).execution_options(**{ALL_TENANTS: True})
    return [card_of(case) for case in session.scalars(_page(query, after, limit))]


def recent_own_cases(session: Session, person_id: uuid.UUID, limit: int) -> list[CaseCard]:
    """A person's `limit` most recent cases in every municipality, newest first (inside `person_scope`)."""
    query = select(Case).where(Case.citizen_id == person_id).execution_options(**{ALL_TENANTS: True})
    return [card_of(case) for case in session.scalars(query.order_by(Case.id.desc()).limit(limit))]


def delegated_cases(session: Session, person_id: uuid.UUID, *, after: uuid.UUID | None, limit: int,
                    wanted: QueueFilter = QueueFilter()) -> list[CaseCard]:
    """The cases of every municipality that delegated their service to one of the person's teams."""
    delegated = exists().where(
        Delegation.tenant_id == Case.tenant_id, Delegation.service.in_([Case.service, literal(ALL_SERVICES)]),
        TeamMember.team_id == Delegation.team_id, TeamMember.user_id == person_id)
    query = _filtered(select(Case).where(delegated), wanted).execution_options(**{ALL_TENANTS: True})
    return [card_of(case) for case in session.scalars(_page(query, after, limit))]


def case_citizen(session: Session, tenant_id: uuid.UUID, case_id: uuid.UUID) -> uuid.UUID | None:
    """The citizen a case is for (whom its e-mail goes to: `townhall.outbox.mail.CitizenOf`)."""
    return session.scalars(select(Case.citizen_id).where(Case.tenant_id == tenant_id, Case.id == case_id)).first()


@dataclass(frozen=True)
class QueueHealth:
    open: int
    overdue: int


def queue_health(session: Session, tenant_id: uuid.UUID, today: date) -> QueueHealth:
    """How many of a municipality's cases are still open, and how many of those are past their due
    date: one query (the consortium console's health column)."""
    still_open = or_(*(and_(Case.service == code, Case.status.not_in(sorted(service.workflow.terminal)))
                       for code, service in SERVICE_TYPES.items()))
    row = session.execute(
        select(func.count(), func.count().filter(Case.due_on < today))
        .select_from(Case).where(Case.tenant_id == tenant_id, still_open)
    ).one()
    return QueueHealth(int(row[0]), int(row[1]))
