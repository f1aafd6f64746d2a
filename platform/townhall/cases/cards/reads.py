"""The hot reads: one case with its timeline, a page of cards, and what opening a case reads first.

Core statements built once (per viewer kind) with bound parameters, not ORM queries: no objects to
load and no statement to rebuild per request. They name the tenant themselves (the ORM guard only
watches ORM queries); row-level security still applies on PostgreSQL.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Select, bindparam, literal, select
from sqlalchemy.orm import Session

from townhall.auth.models import Team, User
from townhall.cases.cards import CASE_COLUMNS, STEP_COLUMNS, CaseCard, Step
from townhall.cases.cards.driver import rows
from townhall.cases.models import Case, CaseStep
from townhall.rules.decisions import CASE_RULE_KINDS, ActiveRule
from townhall.rules.models import Resident, Rule, RuleVersion
from townhall.services.models import CatalogEntry

Q = TypeVar("Q", bound="Select[*tuple[Any, ...]]")

CASES, _steps = Case.__table__, CaseStep.__table__
CARDS = (CASES.outerjoin(User.__table__, User.__table__.c.id == CASES.c.assignee_id)
         .outerjoin(Team.__table__, Team.__table__.c.id == CASES.c.team_id))
"""The cases with what a card shows of their assignee and team."""


def card_select(*extra: Any) -> Select[Any]:
    """The columns of a `CaseCard` (select from `CARDS`), then `extra`."""
    return select(*(CASES.c[name] for name in CASE_COLUMNS), User.__table__.c.email.label("assignee_email"),
                  Team.__table__.c.slug.label("team_slug"), *extra)


def viewer_criteria(query: Q, citizen: bool, services: bool) -> Q:
    """What the viewer may see, as bound parameters: `citizen` (their own cases) and `services` (a
    list: those services only)."""
    if citizen:
        query = query.where(CASES.c.citizen_id == bindparam("citizen"))
    if services:
        query = query.where(CASES.c.service.in_(bindparam("services", expanding=True)))
    return query


def cards(session: Session, query: Select[Any], params: Mapping[str, Any]) -> list[CaseCard]:
    """The cards a `card_select` query finds."""
    return [CaseCard(*row) for row in session.connection().execute(query, params)]


@cache
def _case_with_timeline_statement(citizen: bool, services: bool) -> Select[Any]:
    on = (_steps.c.tenant_id == CASES.c.tenant_id) & (_steps.c.case_id == CASES.c.id)
    if citizen:
        on &= _steps.c.visible_to_citizen.is_(True)  # internal notes never reach the citizen
    query = (card_select(*(_steps.c[name] for name in STEP_COLUMNS)).select_from(CARDS.outerjoin(_steps, on))
             .where(CASES.c.tenant_id == bindparam("tenant"), CASES.c.id == bindparam("case")))
    return viewer_criteria(query, citizen, services).order_by(_steps.c.at, _steps.c.id)


def card_with_timeline(session: Session, tenant_id: uuid.UUID, case_id: uuid.UUID, citizen: bool, services: bool,
                       params: Mapping[str, Any]) -> tuple[CaseCard, list[Step]] | None:
    """One case and its timeline in one query, as `viewer_criteria` and its `params` let through."""
    found = rows(session.connection(), _case_with_timeline_statement(citizen, services),
                 {**params, "tenant": tenant_id, "case": case_id})
    if not found:
        return None
    width = len(CASE_COLUMNS) + 2
    steps = [Step(*row[width:]) for row in found if row[width] is not None]
    return CaseCard(*found[0][:width]), steps


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
    found = rows(session.connection(), _intake_statement("email" in who),
                 {"tenant": tenant_id, "service": service, **who})
    if not found:
        return None
    citizen_id, enabled, fee_cents, processing_days, person_ref, *applicant = found[0][:_RULE]
    # One register entry per person is the rule; should there be more, the first decides alone.
    return Intake(
        citizen_id=citizen_id, enabled=enabled, fee_cents=fee_cents, processing_days=processing_days,
        applicant=None if person_ref is None else RegisteredApplicant(*applicant),
        rules=tuple(ActiveRule(*row[_RULE:]) for row in found
                    if row[_PERSON_REF] == person_ref and row[_RULE] is not None))
