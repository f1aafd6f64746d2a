"""The decisions a case needs at creation — eligibility, fee, routing, deadline — from the tenant's
active rules where it has one, else from the service and the catalogue. Every decision is recorded."""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from townhall.errors import Refused
from townhall.ids import new_id
from townhall.localisation import pick
from townhall.rules.engine import RuleProblem, compile_rule, evaluate
from townhall.services.base import Applicant

CASE_RULE_KINDS = ("eligibility", "fee", "deadline", "routing")  # the order they are decided in


class RuleFailed(Refused):
    title = "A rule of the municipality could not decide"
    code = "rule_failed"


@dataclass(frozen=True)
class Decision:
    kind: str
    result: Any
    rule_id: uuid.UUID | None = None
    rule_version: int | None = None
    source: str = "service"


@dataclass
class Decisions:
    refusal: str | None = None  # a localised reason when not eligible
    fee_cents: int = 0
    deadline_days: int = 0
    team: str = ""
    made: list[Decision] = field(default_factory=list)


@dataclass(frozen=True)
class ActiveRule:
    """A case rule's active version, as deciding needs it."""

    kind: str
    rule_id: uuid.UUID
    number: int
    expression: str
    template_id: uuid.UUID | None
    reason: dict[str, str]


class RegisterEntry(Protocol):
    """What rules read of a person in the resident register (a `Resident` row, or a copy of one)."""

    @property
    def birth_date(self) -> date | None: ...
    @property
    def resident(self) -> bool: ...
    @property
    def address(self) -> dict[str, Any]: ...
    @property
    def eid_expires_on(self) -> date | None: ...


def applicant_variables(resident: RegisterEntry | None, today: date) -> dict[str, Any]:
    """`applicant` as rules see it; `known` is false for someone not in the resident register."""
    if resident is None:
        return {"known": False, "age": -1, "resident": False, "birth_date": "", "address": {}, "eid_expires_on": ""}
    born = resident.birth_date
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day)) if born else -1
    return {"known": True, "age": age, "resident": resident.resident, "birth_date": born.isoformat() if born else "",
            "address": resident.address, "eid_expires_on": resident.eid_expires_on.isoformat()
            if resident.eid_expires_on else ""}


def applicant_of(resident: RegisterEntry | None) -> Applicant:
    """What the service's own eligibility check reads, when the tenant has no eligibility rule."""
    if resident is None:
        return Applicant(birth_date=None, resident=None)
    return Applicant(birth_date=resident.birth_date, resident=resident.resident)


@dataclass(frozen=True)
class CaseFacts:
    tenant: Mapping[str, Any]
    service: str
    request: Mapping[str, Any]
    today: date
    now: datetime
    languages: Sequence[str]


def decide(rules: Sequence[ActiveRule], facts: CaseFacts, applicant: Mapping[str, Any],
           defaults: Decisions) -> Decisions:
    """Replace each default by the active rule of its kind; record where every value came from."""
    by_kind = {rule.kind: rule for rule in rules}
    decided = Decisions(refusal=defaults.refusal, fee_cents=defaults.fee_cents,
                        deadline_days=defaults.deadline_days, team=defaults.team)
    variables: dict[str, Any] = {"applicant": applicant, "request": dict(facts.request), "tenant": dict(facts.tenant),
                                 "service": {"code": facts.service}, "today": facts.today.isoformat(),
                                 "now": facts.now.isoformat(), "case": {"service": facts.service}}
    for kind in CASE_RULE_KINDS:
        found = by_kind.get(kind)
        if found is None:
            decided.made.append(Decision(kind, _default_result(kind, decided)))
            continue
        try:
            value = evaluate(compile_rule(kind, found.expression), variables)
        except RuleProblem as problem:
            raise RuleFailed(f"The {kind} rule (version {found.number}) failed: {problem.detail}") from problem
        source = "template" if found.template_id else "rule"
        decided.made.append(Decision(kind, value, found.rule_id, found.number, source))
        if kind == "eligibility":
            decided.refusal = None if value else (pick(found.reason, facts.languages)[1] or "Not eligible.")
            if not value:
                return decided
        elif kind == "fee":
            decided.fee_cents = value
        elif kind == "deadline":
            decided.deadline_days = value
        else:
            decided.team = value
        variables["case"] = {"service": facts.service, "fee_cents": decided.fee_cents,
                             "deadline_days": decided.deadline_days}
    return decided


def _default_result(kind: str, decided: Decisions) -> Any:
    return {"eligibility": decided.refusal is None, "fee": decided.fee_cents, "deadline": decided.deadline_days,
            "routing": decided.team}[kind]


def decision_rows(tenant_id: uuid.UUID, case_id: uuid.UUID, decisions: Decisions, at: datetime) -> list[dict[str, Any]]:
    """The decisions as `case_decisions` rows, written together with the case."""
    return [{"tenant_id": tenant_id, "id": new_id(), "case_id": case_id, "kind": made.kind, "rule_id": made.rule_id,
             "rule_version": made.rule_version, "source": made.source, "result": {"value": made.result}, "at": at}
            for made in decisions.made]
