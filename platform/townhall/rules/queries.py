"""Read-side lookups for rules, templates and decisions."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from townhall.changes.diff import differences, text_diff
from townhall.errors import NotFound
from townhall.rules.models import CaseDecision, Rule, RuleTemplate, RuleVersion


def active_rules(session: Session, tenant_id: uuid.UUID, *where: ColumnElement[bool]) -> list[tuple[Rule, RuleVersion]]:
    """The municipality's rules matching `where`, each with its active version (rules without one
    are left out)."""
    rows = session.execute(
        select(Rule, RuleVersion)
        .join(RuleVersion, (RuleVersion.tenant_id == Rule.tenant_id) & (RuleVersion.rule_id == Rule.id)
              & (RuleVersion.number == Rule.active_version))
        .where(Rule.tenant_id == tenant_id, *where)
        .order_by(Rule.service, Rule.kind, Rule.trigger)
    ).all()
    return [(rule, version) for rule, version in rows]


def latest_template(session: Session, slug: str) -> RuleTemplate | None:
    return session.scalars(select(RuleTemplate).where(RuleTemplate.slug == slug)
                           .order_by(RuleTemplate.number.desc()).limit(1)).first()


def templates(session: Session) -> Sequence[RuleTemplate]:
    return session.scalars(select(RuleTemplate).order_by(RuleTemplate.slug, RuleTemplate.number)).all()


def rule_by_id(session: Session, tenant_id: uuid.UUID, rule_id: uuid.UUID) -> Rule | None:
    return session.scalars(select(Rule).where(Rule.tenant_id == tenant_id, Rule.id == rule_id)).first()


def rules_of(session: Session, tenant_id: uuid.UUID) -> Sequence[Rule]:
    return session.scalars(select(Rule).where(Rule.tenant_id == tenant_id)
                           .order_by(Rule.service, Rule.kind, Rule.trigger)).all()


def rule_version(session: Session, rule: Rule, number: int) -> RuleVersion | None:
    return session.get(RuleVersion, (rule.tenant_id, rule.id, number))


def versions_of(session: Session, rule: Rule) -> Sequence[RuleVersion]:
    return session.scalars(select(RuleVersion).where(RuleVersion.tenant_id == rule.tenant_id,
                                                     RuleVersion.rule_id == rule.id)
                           .order_by(RuleVersion.number)).all()


def decisions_of(session: Session, tenant_id: uuid.UUID, case_id: uuid.UUID) -> Sequence[CaseDecision]:
    return session.scalars(select(CaseDecision).where(CaseDecision.tenant_id == tenant_id,
                                                      CaseDecision.case_id == case_id)
                           .order_by(CaseDecision.at, CaseDecision.id)).all()


VERSION_FIELDS = ("expression", "examples", "reason", "action", "template_id")


def version_diff(session: Session, rule: Rule, old: int, new: int) -> dict[str, Any]:
    """What changed from version `old` to version `new` of a rule: each differing field, and the
    expression line by line."""
    before, after = rule_version(session, rule, old), rule_version(session, rule, new)
    if before is None or after is None:
        raise NotFound(f"This rule has no version {old if before is None else new}.")
    views = [{name: getattr(version, name) for name in VERSION_FIELDS} for version in (before, after)]
    for view in views:
        view["template_id"] = str(view["template_id"]) if view["template_id"] else None
    return {"from": old, "to": new, "changes": differences(views[0], views[1], VERSION_FIELDS),
            "expression_diff": text_diff(before.expression, after.expression, f"version {old}", f"version {new}")}
