"""What a service implementation declares: texts, its application form, its workflow, defaults.

Adding a service is adding one module with one `ServiceType` and listing it in `registry.py`.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from marshmallow import Schema

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


CASE_WORKER = "case_worker"
CITIZEN = "citizen"
SYSTEM = "system"
STAFF = frozenset({CASE_WORKER})
ANYONE = frozenset({CASE_WORKER, CITIZEN})


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))
