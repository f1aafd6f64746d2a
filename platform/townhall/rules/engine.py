"""Tenant rules in CEL (the Common Expression Language) behind a small interface of our own.

A rule is an expression of one kind; each kind names the variables it may read and the type of its
result. Expressions are checked when saved (syntax, variables, functions, result type on examples)
and compiled once per text: rule versions are immutable, so the text identifies the version.
Dates are ISO strings (`"2026-11-28"`), which compare in date order.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import cel

from townhall.calendar import working_days_between


def _day(value: Any) -> date:
    return date.fromisoformat(str(value)[:10])


def age_on(birth_date: Any, day: Any) -> int:
    """Whole years from `birth_date` to `day` (both ISO dates)."""
    born, on = _day(birth_date), _day(day)
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def days_between(start: Any, end: Any) -> int:
    """Calendar days from `start` to `end` (negative when `end` comes first)."""
    return (_day(end) - _day(start)).days


def working_days(start: Any, end: Any) -> int:
    """Working days after `start` up to and including `end` (no weekends, no Belgian public holidays)."""
    return working_days_between(_day(start), _day(end))


FUNCTIONS: dict[str, Callable[..., Any]] = {"age_on": age_on, "days_between": days_between,
                                           "working_days": working_days}

# CEL's own functions this platform allows (operators appear as `_+_`, `!_`, `@in`, …).
STANDARD_FUNCTIONS = frozenset({
    "size", "startsWith", "endsWith", "contains", "matches", "int", "uint", "double", "string", "bool",
    "timestamp", "duration", "max", "min", "getFullYear", "getMonth", "getDayOfMonth", "getDayOfWeek",
    "getDayOfYear", "getDate", "getHours", "getMinutes",
})
_BINDER = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*,")

CASE_VARIABLES = ("applicant", "request", "case", "service", "tenant", "today", "now")
EVENT_VARIABLES = ("event", "resident", "tenant", "today", "now")


@dataclass(frozen=True)
class Kind:
    name: str
    result: type | tuple[type, ...]
    result_name: str
    variables: tuple[str, ...]


KINDS: dict[str, Kind] = {
    "eligibility": Kind("eligibility", bool, "true or false", CASE_VARIABLES),
    "fee": Kind("fee", int, "a whole number of cents", CASE_VARIABLES),
    "routing": Kind("routing", str, "a team's slug, or \"\" for the municipality's own queue", CASE_VARIABLES),
    "deadline": Kind("deadline", int, "a whole number of working days", CASE_VARIABLES),
    "proactive": Kind("proactive", bool, "true or false", EVENT_VARIABLES),
}


class RuleProblem(ValueError):
    """A rule that cannot be saved or evaluated: `field` names what is wrong, `detail` how."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field, self.detail = field, detail


@dataclass(frozen=True)
class Compiled:
    kind: Kind
    program: Any
    variables: frozenset[str]


@lru_cache(maxsize=4096)
def compile_rule(kind_name: str, expression: str) -> Compiled:
    """Check and compile; raises RuleProblem pointing at the error."""
    kind = KINDS.get(kind_name)
    if kind is None:
        raise RuleProblem("kind", f"One of: {', '.join(KINDS)}.")
    if not expression.strip() or len(expression) > 4000:
        raise RuleProblem("expression", "Between 1 and 4000 characters.")
    try:
        program = cel.compile(expression)
    except (ValueError, RuntimeError) as error:
        raise RuleProblem("expression", f"Not valid CEL: {error}") from error
    bound = set(_BINDER.findall(expression))
    unknown = sorted(set(program.variables()) - set(kind.variables) - bound)
    if unknown:
        raise RuleProblem("expression", f"Unknown variable {', '.join(unknown)}; a {kind.name} rule may read "
                                        f"{', '.join(kind.variables)}.")
    functions = [f for f in program.functions() if not f.startswith(("_", "!", "-", "@"))]
    strange = sorted(set(functions) - STANDARD_FUNCTIONS - set(FUNCTIONS))
    if strange:
        raise RuleProblem("expression", f"Unknown function {', '.join(strange)}; see docs/rules.md for the "
                                        "functions rules may call.")
    return Compiled(kind, program, frozenset(program.variables()) - bound)


def evaluate(compiled: Compiled, variables: Mapping[str, Any]) -> Any:
    """The rule's value for these variables, of the kind's type; raises RuleProblem otherwise."""
    context = cel.Context({name: variables[name] for name in compiled.variables if name in variables}, FUNCTIONS)
    try:
        value = compiled.program.execute(context)
    except KeyError as error:
        raise RuleProblem("input", f"The input has no field {error}.") from error
    except Exception as error:
        raise RuleProblem("input", f"The rule failed: {error}") from error
    kind = compiled.kind
    if isinstance(value, bool) != (kind.result is bool) or not isinstance(value, kind.result):
        raise RuleProblem("expression", f"A {kind.name} rule gives {kind.result_name}, this one gave "
                                        f"{type(value).__name__} {value!r}.")
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        raise RuleProblem("expression", f"A {kind.name} rule gives {kind.result_name} (0 or more), this one gave "
                                        f"{value}.")
    return value
