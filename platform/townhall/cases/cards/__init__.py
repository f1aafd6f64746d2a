"""A case as its callers see it: a `CaseCard` and its timeline of `Step`s.

Opening a case and reading one or a page of them are the platform's most frequent requests, so
they run hand-written Core statements built once (`reads`, `opening`), on PostgreSQL through the
driver itself (`driver`), and give back these frozen cards, not ORM objects. Everything else in
`townhall.cases` works on the ORM `Case` and converts with `card_of`/`step_of` before it answers,
so a caller renders one type. Only `townhall.cases` reaches the statements and the driver path
(an import-linter contract); the cards themselves are for everyone.
"""

import uuid
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from townhall.cases.models import Case, CaseStep


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


# The columns of the cases and case_steps tables, in the order of the cards' fields: statements
# select them in this order (a name that is not a column fails at import).
CASE_COLUMNS = tuple(field.name for field in fields(CaseCard))[:-2]
STEP_COLUMNS = tuple(field.name for field in fields(Step))
_CARD_FIELDS = (*CASE_COLUMNS, "assignee_email", "team_slug")


def card_of(case: Case) -> CaseCard:
    """The card of a case the ORM holds (its assignee and team are loaded with it)."""
    return CaseCard(*(getattr(case, name) for name in _CARD_FIELDS))


def step_of(step: CaseStep) -> Step:
    return Step(*(getattr(step, name) for name in STEP_COLUMNS))
