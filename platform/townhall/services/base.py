"""What a service implementation declares: texts, its application form, its workflow, defaults,
and the hooks through which generic case code asks for what differs per service.

Adding a service is adding one module with one `ServiceType` and listing it in `registry.py`.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from marshmallow import Schema

from townhall.auth.scopes import CASE_WORKER, CITIZEN
from townhall.localisation import LocalisedText


@dataclass(frozen=True)
class Transition:
    """A step from one state to another, who may take it, and whether the citizen hears of it."""

    source: str
    target: str
    roles: frozenset[str]
    informs_citizen: bool = True


@dataclass(frozen=True)
class Workflow:
    states: tuple[str, ...]
    initial: str
    transitions: tuple[Transition, ...]
    terminal: frozenset[str]

    def next_states(self, state: str, role: str) -> list[str]:
        return [t.target for t in self.transitions if t.source == state and role in t.roles]

    def transition(self, source: str, target: str) -> Transition | None:
        return next((t for t in self.transitions if t.source == source and t.target == target), None)

    def finished_by_platform(self, state: str) -> str | None:
        """The terminal state the platform itself takes a case to from `state`, if any: such a case
        needs no human and is finished at once."""
        return next((t.target for t in self.transitions
                     if t.source == state and SYSTEM in t.roles and t.target in self.terminal), None)

    def problems(self) -> list[str]:
        """A workflow's own consistency: every state known, reachable, and terminal states final."""
        found = []
        known = set(self.states)
        if self.initial not in known:
            found.append(f"initial state {self.initial} is not a state")
        for step in self.transitions:
            if step.source not in known or step.target not in known:
                found.append(f"{step.source} -> {step.target} names an unknown state")
            if step.source in self.terminal:
                found.append(f"{step.source} is terminal but has a way out")
            if not step.roles:
                found.append(f"{step.source} -> {step.target} names no role")
        reachable, frontier = {self.initial}, [self.initial]
        while frontier:
            current = frontier.pop()
            for step in self.transitions:
                if step.source == current and step.target not in reachable:
                    reachable.add(step.target)
                    frontier.append(step.target)
        found += [f"{state} cannot be reached" for state in self.states if state not in reachable]
        found += [f"{state} is terminal but not a state" for state in self.terminal - known]
        if not self.terminal:
            found.append("no terminal state")
        return found


@dataclass(frozen=True)
class Applicant:
    """What eligibility needs to know of the person a case is for."""

    birth_date: date | None  # None: not known (the resident register arrives with tenant rules)
    resident: bool | None


Eligibility = Callable[[Applicant, Mapping[str, Any], date], str | None]
"""Returns None when eligible, else a message key (tenant rules replace this later)."""


def always_eligible(_applicant: Applicant, _form: Mapping[str, Any], _today: date) -> str | None:
    return None


OpenCases = Callable[[], Iterable[tuple[str, Mapping[str, Any]]]]
"""The municipality's recent open cases of the service, the most recent first: reference and form."""

DuplicateCheck = Callable[[Mapping[str, Any], OpenCases], str | None]
"""The reference of an open case that a new case's validated form may repeat (None: none). The open
cases are read only if the check asks for them."""


def no_duplicates(_form: Mapping[str, Any], _open_cases: OpenCases) -> str | None:
    return None


@dataclass(frozen=True)
class Issuing:
    """What the platform knows when it issues a case's certificate; the service reads the rest from
    the case's form."""

    form: Mapping[str, Any]
    municipality: str  # its name, as printed on documents
    holder: str  # the citizen's name
    reference: str
    issued_on: date
    verification_code: str
    verify_url: str


@dataclass(frozen=True)
class IssuedDocument:
    kind: str  # what it certifies, as its public verification tells
    filename: str
    content: bytes  # a PDF


@dataclass(frozen=True)
class Retention:
    """How long a closed case of the service is kept before it is pseudonymised: `days` by
    default, which a municipality may set between `min_days` and `max_days` (the platform's bounds),
    and why (docs/gdpr.md)."""

    days: int
    min_days: int
    max_days: int
    why: str


DEFAULT_RETENTION = Retention(730, 90, 3650, "two years after closing, for complaints and appeals")


@dataclass(frozen=True)
class ServiceType:
    code: str
    names: LocalisedText
    descriptions: LocalisedText
    form: type[Schema]
    workflow: Workflow
    processing_days: int
    fee_cents: int
    evidence: tuple[str, ...] = ()
    produces: str = ""
    eligibility: Eligibility = always_eligible
    fee: Callable[[Mapping[str, Any], int], int] = field(default=lambda _form, base: base)
    """The fee for a validated form, from the municipality's base fee (express options cost more)."""
    possible_duplicate: DuplicateCheck = no_duplicates
    """Marks a new case as a possible duplicate of an open one (the case view shows which)."""
    retention: Retention = DEFAULT_RETENTION
    issues: Callable[[Issuing], IssuedDocument] | None = None
    """The certificate the platform issues when it finishes a case of this service itself (None:
    none). Anyone can verify it by its code, and the case view shows it."""


SYSTEM = "system"
STAFF = frozenset({CASE_WORKER})
ANYONE = frozenset({CASE_WORKER, CITIZEN})


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))
