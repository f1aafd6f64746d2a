"""Read-side lookups for cases, always through what the viewer may see (one SQL predicate)."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Select, and_, bindparam, exists, literal, or_, select
from sqlalchemy.orm import Session

from townhall import driver
from townhall.auth.models import Delegation, Team, TeamMember, User
from townhall.auth.scopes import ALL_SERVICES
from townhall.cases.models import Case, CaseDocument, CaseMessage, CaseStep, Certificate
from townhall.rules.decisions import CASE_RULE_KINDS, ActiveRule
from townhall.rules.models import Resident, Rule, RuleVersion
from townhall.services.models import CatalogEntry
from townhall.services.registry import SERVICE_TYPES
from townhall.tenancy import ALL_TENANTS

# The two most frequent reads (one case, a page of the queue) are Core statements built once: no
# ORM objects to load and no statement to rebuild per request. They name the tenant themselves (the
# ORM guard only watches ORM queries); row-level security still applies on PostgreSQL.
_cases, _steps = Case.__table__, CaseStep.__table__
_CARDS = (_cases.outerjoin(User.__table__, User.__table__.c.id == _cases.c.assignee_id)
          .outerjoin(Team.__table__, Team.__table__.c.id == _cases.c.team_id))


Q = TypeVar("Q", bound="Select[*tuple[Any, ...]]")


@dataclass(frozen=True)
class Viewer:
    """Who looks: a citizen (`citizen_id`: their own cases), staff of a delegated team (`services`:
    those services only), or staff of the municipality and partner clients (neither: every case)."""

    citizen_id: uuid.UUID | None = None
    services: frozenset[str] | None = None

    def may_handle(self, service: str) -> bool:
        return self.services is None or ALL_SERVICES in self.services or service in self.services


@dataclass(frozen=True, slots=True)
class CaseCard:
    """A case as read for showing it: its columns, and its assignee's e-mail and team's slug."""

    tenant_id: uuid.UUID
    id: uuid.UUID
    reference: str
    service: str
    status: str
    form: dict[str, Any]
    citizen_id: uuid.UUID
    created_by: str
    created_at: datetime
    updated_at: datetime
    due_on: date
    fee_cents: int
    possible_duplicate_of: str | None
    assignee_id: uuid.UUID | None
    team_id: uuid.UUID | None
    version: int
    assignee_email: str | None
    team_slug: str | None


@dataclass(frozen=True, slots=True)
class Step:
    """One timeline entry as shown."""

    id: uuid.UUID
    at: datetime
    actor: str
    kind: str
    from_status: str | None
    to_status: str | None
    note: str | None
    visible_to_citizen: bool


# Selected in the order of the dataclasses' fields (a name that is not a column fails at import).
CASE_COLUMNS = tuple(field.name for field in fields(CaseCard))[:-2]
STEP_COLUMNS = tuple(field.name for field in fields(Step))


def _card_select(*extra: Any) -> Select[Any]:
    return select(*(_cases.c[name] for name in CASE_COLUMNS), User.__table__.c.email.label("assignee_email"),
                  Team.__table__.c.slug.label("team_slug"), *extra)


def _viewer_criteria(query: Q, citizen: bool, services: bool) -> Q:
    """What the viewer may see, as bound parameters (`_viewer_params` gives their values)."""
    if citizen:
        query = query.where(_cases.c.citizen_id == bindparam("citizen"))
    if services:
        query = query.where(_cases.c.service.in_(bindparam("services", expanding=True)))
    return query


def _viewer_params(viewer: Viewer) -> tuple[bool, bool, dict[str, Any]]:
    params: dict[str, Any] = {}
    if viewer.citizen_id is not None:
        params["citizen"] = viewer.citizen_id
    if viewer.services is not None and ALL_SERVICES not in viewer.services:
        params["services"] = sorted(viewer.services)
    return "citizen" in params, "services" in params, params


def visible_case(session: Session, tenant_id: uuid.UUID, viewer: Viewer, case_id: uuid.UUID) -> Case | None:
    citizen, services, params = _viewer_params(viewer)
    query = _viewer_criteria(select(Case).where(Case.tenant_id == tenant_id, Case.id == case_id), citizen, services)
    return session.scalars(query, params).one_or_none()


@cache
def _case_with_timeline_statement(citizen: bool, services: bool) -> Select[Any]:
    on = (_steps.c.tenant_id == _cases.c.tenant_id) & (_steps.c.case_id == _cases.c.id)
    if citizen:
        on &= _steps.c.visible_to_citizen.is_(True)  # internal notes never reach the citizen
    query = (_card_select(*(_steps.c[name] for name in STEP_COLUMNS)).select_from(_CARDS.outerjoin(_steps, on))
             .where(_cases.c.tenant_id == bindparam("tenant"), _cases.c.id == bindparam("case")))
    return _viewer_criteria(query, citizen, services).order_by(_steps.c.at, _steps.c.id)


def case_with_timeline(session: Session, tenant_id: uuid.UUID, viewer: Viewer,
                       case_id: uuid.UUID) -> tuple[CaseCard, list[Step]] | None:
    """One visible case and its timeline in one query (the most frequent read: one round trip)."""
    citizen, services, params = _viewer_params(viewer)
    rows = driver.rows(session.connection(), _case_with_timeline_statement(citizen, services),
                       params | {"tenant": tenant_id, "case": case_id})
    if not rows:
        return None
    width = len(CASE_COLUMNS) + 2
    steps = [Step(*row[width:]) for row in rows if row[width] is not None]
    return CaseCard(*rows[0][:width]), steps


@dataclass(frozen=True, slots=True)
class RegisteredApplicant:
    """The applicant as the municipality's resident register knows them."""

    birth_date: date | None
    resident: bool
    address: dict[str, Any]
    eid_expires_on: date | None


@dataclass(frozen=True)
class Intake:
    """What opening a case reads before it writes: the municipality's catalogue entry for the
    service, the citizen's id (None: no such person), the applicant in the municipality's resident
    register (None: unknown there) and its active case rules."""

    citizen_id: uuid.UUID | None
    enabled: bool
    fee_cents: int
    processing_days: int
    applicant: RegisteredApplicant | None
    rules: tuple[ActiveRule, ...]


# Positions in `_intake_statement`'s rows: the register entry's reference, and where the rule begins.
_PERSON_REF, _RULE = 4, 9


@cache
def _intake_statement(by_email: bool) -> Select[Any]:
    entries, users, residents = CatalogEntry.__table__, User.__table__, Resident.__table__
    rules, versions = Rule.__table__, RuleVersion.__table__
    active = rules.join(versions, (versions.c.tenant_id == rules.c.tenant_id) & (versions.c.rule_id == rules.c.id)
                        & (versions.c.number == rules.c.active_version))
    return (
        select(users.c.id.label("citizen_id"), entries.c.enabled, entries.c.fee_cents, entries.c.processing_days,
               residents.c.person_ref, residents.c.birth_date, residents.c.resident, residents.c.address,
               residents.c.eid_expires_on, rules.c.kind, rules.c.id, versions.c.number, versions.c.expression,
               versions.c.template_id, versions.c.reason)
        .select_from(entries
                     .outerjoin(users, users.c.email_key == bindparam("email") if by_email
                                else users.c.id == bindparam("citizen"))
                     .outerjoin(residents, (residents.c.tenant_id == entries.c.tenant_id)
                                & (residents.c.user_id == users.c.id))
                     .outerjoin(active, (rules.c.tenant_id == entries.c.tenant_id)
                                & (rules.c.service == entries.c.service)
                                # constants: a plain list is an expanding parameter, rendered anew each time
                                & rules.c.kind.in_([literal(kind) for kind in CASE_RULE_KINDS])))
        .where(entries.c.tenant_id == bindparam("tenant"), entries.c.service == bindparam("service"))
        .order_by(residents.c.person_ref, rules.c.kind, rules.c.trigger)
    )


def intake(session: Session, tenant_id: uuid.UUID, service: str, citizen: uuid.UUID | str) -> Intake | None:
    """One round trip for all of it (None: the municipality has no such catalogue entry). The
    citizen is named by id, or by e-mail address when someone acts on their behalf."""
    who = {"email": citizen.strip().lower()} if isinstance(citizen, str) else {"citizen": citizen}
    rows = driver.rows(session.connection(), _intake_statement("email" in who),
                       {"tenant": tenant_id, "service": service, **who})
    if not rows:
        return None
    citizen_id, enabled, fee_cents, processing_days, person_ref, *applicant = rows[0][:_RULE]
    # One register entry per person is the rule; should there be more, the first decides alone.
    return Intake(
        citizen_id=citizen_id, enabled=enabled, fee_cents=fee_cents, processing_days=processing_days,
        applicant=None if person_ref is None else RegisteredApplicant(*applicant),
        rules=tuple(ActiveRule(*row[_RULE:]) for row in rows
                    if row[_PERSON_REF] == person_ref and row[_RULE] is not None))


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
    query = _filtered(_card_select().select_from(_CARDS).where(_cases.c.tenant_id == tenant_id), wanted)
    if after is not None:
        query = query.where(_cases.c.id > after)
    query = _viewer_criteria(query, citizen, services).order_by(_cases.c.id).limit(limit)
    return [CaseCard(*row) for row in session.connection().execute(query, params)]


def timeline(session: Session, tenant_id: uuid.UUID, case_id: uuid.UUID, for_citizen: bool) -> Sequence[CaseStep]:
    query = select(CaseStep).where(CaseStep.tenant_id == tenant_id, CaseStep.case_id == case_id)
    if for_citizen:
        query = query.where(CaseStep.visible_to_citizen.is_(True))  # internal notes never reach the citizen
    return session.scalars(query.order_by(CaseStep.at, CaseStep.id)).all()


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
                         limit: int) -> Sequence[Case]:
    """A person's own cases in every municipality (oldest first; ids are time-ordered platform-wide).
    Call inside `person_scope`: on PostgreSQL row-level security lets exactly these rows through."""
    query = select(Case).where(Case.citizen_id == person_id).execution_options(**{ALL_TENANTS: True})
    return session.scalars(_page(query, after, limit)).all()


def delegated_cases(session: Session, person_id: uuid.UUID, *, after: uuid.UUID | None, limit: int,
                    wanted: QueueFilter = QueueFilter()) -> Sequence[Case]:
    """The cases of every municipality that delegated their service to one of the person's teams."""
    delegated = exists().where(
        Delegation.tenant_id == Case.tenant_id, Delegation.service.in_([Case.service, literal(ALL_SERVICES)]),
        TeamMember.team_id == Delegation.team_id, TeamMember.user_id == person_id)
    query = _filtered(select(Case).where(delegated), wanted).execution_options(**{ALL_TENANTS: True})
    return session.scalars(_page(query, after, limit)).all()


def case_citizen(session: Session, tenant_id: uuid.UUID, case_id: uuid.UUID) -> uuid.UUID | None:
    """The citizen a case is for (whom its e-mail goes to: `townhall.outbox.mail.CitizenOf`)."""
    return session.scalars(select(Case.citizen_id).where(Case.tenant_id == tenant_id, Case.id == case_id)).first()
