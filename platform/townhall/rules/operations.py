"""Write use-cases for rules: publish a template, create a rule, add a version, activate one, and a
dry run. They validate, change and flush; the caller commits once."""

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from townhall.errors import Conflict, InvalidInput, NotFound, StaleVersion
from townhall.rules.engine import KINDS, RuleProblem, compile_rule, evaluate
from townhall.rules.models import Rule, RuleTemplate, RuleVersion
from townhall.rules.queries import latest_template, rule_version
from townhall.rules.schemas import RuleInput, TemplateInput, VersionInput
from townhall.services.registry import service_type
from townhall.validation import load

# A typical input per kind: a rule whose result has the wrong type on it is refused when saved.
SAMPLES: dict[str, dict[str, Any]] = {
    "case": {"applicant": {"known": True, "age": 40, "resident": True, "birth_date": "1986-05-17", "address": {},
                           "eid_expires_on": "2030-01-01"},
             "request": {}, "case": {"service": "eid-card", "fee_cents": 2500, "deadline_days": 10},
             "service": {"code": "eid-card"}, "tenant": {"slug": "aalst", "name": "Aalst"},
             "today": "2026-11-28", "now": "2026-11-28T10:00:00+01:00"},
    "proactive": {"event": {"type": "be.document.eid-expiring", "data": {}},
                  "resident": {"known": True, "age": 40, "resident": True, "birth_date": "1986-05-17",
                               "address": {}, "eid_expires_on": "2027-01-15"},
                  "tenant": {"slug": "aalst", "name": "Aalst"}, "today": "2026-11-28",
                  "now": "2026-11-28T10:00:00+01:00"},
}


def _sample(kind: str) -> dict[str, Any]:
    return SAMPLES["proactive" if kind == "proactive" else "case"]


def check(kind: str, expression: str, examples: list[dict[str, Any]], target: Mapping[str, Any]) -> None:
    """Refuse what cannot work: a 422 naming the field (`expression`, `examples.<n>`, `action`, …)."""
    problems: dict[str, list[str]] = {}
    try:
        compiled = compile_rule(kind, expression)
    except RuleProblem as problem:
        raise InvalidInput({problem.field: [problem.detail]}) from problem
    try:
        evaluate(compiled, _sample(kind))
    except RuleProblem as problem:
        if problem.field == "expression":  # the wrong type of result; a typical input may lack a field
            problems["expression"] = [problem.detail]
    for number, example in enumerate(examples):
        try:
            evaluate(compiled, example["input"])
        except RuleProblem as problem:  # the admin's own input: every failure counts
            problems[f"examples.{number}"] = [problem.detail]
    if kind == "proactive":
        action = target.get("action")
        if not action or not target.get("trigger"):
            problems["action" if not action else "trigger"] = ["A proactive rule needs a trigger and an action."]
    elif target.get("action") or target.get("trigger"):
        problems["action"] = ["Only proactive rules have a trigger and an action."]
    if problems:
        raise InvalidInput(problems)


def failing_examples(kind: str, expression: str, examples: list[dict[str, Any]]) -> dict[str, list[str]]:
    compiled = compile_rule(kind, expression)
    failures: dict[str, list[str]] = {}
    for number, example in enumerate(examples):
        try:
            value = evaluate(compiled, example["input"])
        except RuleProblem as problem:
            failures[f"examples.{number}"] = [problem.detail]
            continue
        if value != example["expected"] or type(value) is not type(example["expected"]):
            failures[f"examples.{number}"] = [f"Expected {example['expected']!r}, the rule gives {value!r}."]
    return failures


def _known_service(code: str) -> None:
    if service_type(code) is None:
        raise InvalidInput({"service": [f"The platform offers no service '{code[:63]}'."]})


def publish_template(session: Session, data: Mapping[str, Any], actor: str) -> RuleTemplate:
    """A new number of the template `slug`; its examples must pass, since municipalities adopt it."""
    values = load(TemplateInput, data)
    _known_service(values["service"])
    check(values["kind"], values["expression"], values["examples"], values)
    failures = failing_examples(values["kind"], values["expression"], values["examples"])
    if failures:
        raise InvalidInput(failures)
    previous = session.scalar(select(func.max(RuleTemplate.number)).where(RuleTemplate.slug == values["slug"])) or 0
    template = RuleTemplate(slug=values["slug"], number=previous + 1, kind=values["kind"], service=values["service"],
                            trigger=values.get("trigger", ""), expression=values["expression"],
                            examples=values["examples"], reason=values["reason"], action=values["action"] or {},
                            description=values["description"], created_by=actor)
    session.add(template)
    session.flush()
    return template


def _version(session: Session, rule: Rule, values: Mapping[str, Any], actor: str) -> RuleVersion:
    template = None
    if values.get("template"):
        template = latest_template(session, values["template"])
        if template is None:
            raise InvalidInput({"template": ["No template with this name."]})
        if (template.kind, template.service, template.trigger) != (rule.kind, rule.service, rule.trigger):
            raise InvalidInput({"template": [f"That template is a {template.kind} rule for {template.service}."]})
    expression = template.expression if template else values["expression"]
    examples = values["examples"] or (template.examples if template else [])
    reason = values["reason"] or (template.reason if template else {})
    action = values.get("action") or (template.action if template else None)
    check(rule.kind, expression, examples, {"action": action, "trigger": rule.trigger})
    rule.latest_version += 1
    version = RuleVersion(tenant_id=rule.tenant_id, rule_id=rule.id, number=rule.latest_version,
                          template_id=template.id if template else None, expression=expression, examples=examples,
                          reason=reason, action=action or {}, created_by=actor)
    session.add(version)
    session.flush()
    if values.get("activate"):
        activate(session, rule, version.number)
    return version


def create_rule(session: Session, tenant_id: uuid.UUID, data: Mapping[str, Any],
                actor: str) -> tuple[Rule, RuleVersion]:
    """A rule with its first version, active when `activate` asks for it (activation runs the
    examples: one failing refuses the whole rule)."""
    values = load(RuleInput, data)
    _known_service(values["service"])
    trigger = values.get("trigger", "")
    if values["kind"] == "proactive" and not trigger:
        raise InvalidInput({"trigger": ["A proactive rule names the life event that triggers it."]})
    taken = session.scalars(select(Rule.id).where(Rule.tenant_id == tenant_id, Rule.kind == values["kind"],
                                                  Rule.service == values["service"], Rule.trigger == trigger)).first()
    if taken is not None:
        raise Conflict(f"This municipality has a {values['kind']} rule for {values['service']} already "
                       f"({taken}); add a version to it.")
    rule = Rule(tenant_id=tenant_id, kind=values["kind"], service=values["service"], trigger=trigger)
    session.add(rule)
    session.flush()
    return rule, _version(session, rule, values, actor)


def add_version(session: Session, rule: Rule, data: Mapping[str, Any], actor: str) -> RuleVersion:
    return _version(session, rule, load(VersionInput, data), actor)


def activate(session: Session, rule: Rule, number: int, expected_version: int | None = None) -> Rule:
    """Make version `number` the active one, once its examples pass. Versions never change."""
    if expected_version is not None and expected_version != rule.version:
        raise StaleVersion("The rule changed since you read it.")
    version = rule_version(session, rule, number)
    if version is None:
        raise NotFound(f"This rule has no version {number}.")
    failures = failing_examples(rule.kind, version.expression, version.examples)
    if failures:
        raise InvalidInput(failures)
    rule.active_version = number
    session.flush()
    return rule


def dry_run(session: Session, rule: Rule, given: Mapping[str, Any], number: int | None = None) -> dict[str, Any]:
    """Evaluate a version (the active one by default) on an input; the value and where it came from."""
    chosen = number or rule.active_version or rule.latest_version
    version = rule_version(session, rule, chosen)
    if version is None:
        raise NotFound(f"This rule has no version {chosen}.")
    try:
        value = evaluate(compile_rule(rule.kind, version.expression), given)
    except RuleProblem as problem:
        raise InvalidInput({problem.field: [problem.detail]}) from problem
    return {"result": value, "explanation": {
        "rule": str(rule.id), "kind": rule.kind, "service": rule.service, "version": version.number,
        "active": version.number == rule.active_version, "source": "template" if version.template_id else "override",
        "template": str(version.template_id) if version.template_id else None, "expression": version.expression,
        "value": value, "reads": sorted(compile_rule(rule.kind, version.expression).variables),
        "result_type": KINDS[rule.kind].result_name}}
