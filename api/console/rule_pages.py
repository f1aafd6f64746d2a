"""Rules: each rule's versions, a new version (checked by the CEL engine, its messages shown at the
field), a dry run against an example, activation, and the difference between two versions."""

import json
import uuid
from typing import Any

from flask import Response, g, request, url_for

from api.console.routes import console, refused
from api.console.web import console_page, page, see_other, text
from api.database import session
from api.principal import principal
from townhall.errors import InvalidInput, NotFound, StaleVersion, TownhallError
from townhall.rules.models import Rule
from townhall.rules.operations import activate, add_version, dry_run
from townhall.rules.queries import rule_by_id, rules_of, version_diff, versions_of


@console.get("/rules")
@console_page("config:write")
def rules() -> Response:
    return page("rules.html", section="rules", rules=rules_of(session(), g.tenant.id))


def _rule(rule_id: uuid.UUID) -> Rule:
    rule = rule_by_id(session(), g.tenant.id, rule_id)
    if rule is None:
        raise NotFound("No such rule here.")
    return rule


def _number(raw: str | None, rule: Rule, default: int) -> int:
    return int(raw) if raw and raw.isdigit() and 1 <= int(raw) <= rule.latest_version else default


def _rule_page(rule: Rule, status: int = 200, errors: dict[str, list[str]] | None = None,
               **values: Any) -> Response:
    versions = versions_of(session(), rule)
    latest = versions[-1]
    old = _number(request.args.get("from"), rule, rule.active_version or 1)
    new = _number(request.args.get("to"), rule, rule.latest_version)
    values.setdefault("draft", {"expression": latest.expression, "examples": json.dumps(latest.examples, indent=2),
                                "reason": latest.reason.get(g.tenant.default_language, "")})
    values.setdefault("trial", {"input": json.dumps(latest.examples[0]["input"] if latest.examples else {}, indent=2),
                                "version": str(rule.latest_version)})
    return page("rule.html", status=status, section="rules", rule=rule, versions=versions, errors=errors,
                diff=version_diff(session(), rule, old, new), old=old, new=new, **values)


@console.get("/rules/<uuid:rule_id>")
@console_page("config:write")
def rule(rule_id: uuid.UUID) -> Response:
    return _rule_page(_rule(rule_id))


def _json(name: str, field: str) -> Any:
    try:
        return json.loads(request.form.get(name, "") or "null")
    except ValueError:
        raise InvalidInput({field: [text()["invalid_json"]]}) from None


@console.post("/rules/<uuid:rule_id>/versions")
@console_page("config:write")
def new_version(rule_id: uuid.UUID) -> Response:
    """A new version as the API takes it; activated at once when asked (its examples must pass)."""
    rule = _rule(rule_id)
    form = request.form
    draft = {"expression": form.get("expression", ""), "examples": form.get("examples", ""),
             "reason": form.get("reason", "")}
    try:
        examples = _json("examples", "examples")
        data: dict[str, Any] = {"expression": draft["expression"], "examples": examples or [],
                                "activate": form.get("activate") == "on"}
        if draft["reason"].strip():
            data["reason"] = {g.tenant.default_language: draft["reason"].strip()}
        with session().begin_nested():
            add_version(session(), rule, data, principal().actor)
    except TownhallError as error:
        return _rule_page(rule, 422, refused(error), draft=draft)
    done = "activated" if data["activate"] else "saved"
    return see_other(url_for("console.rule", rule_id=rule_id, done=done))


@console.post("/rules/<uuid:rule_id>/dry-run")
@console_page("config:write")
def try_rule(rule_id: uuid.UUID) -> Response:
    """Nothing is recorded: the result and what the engine read are shown beside the form."""
    rule = _rule(rule_id)
    trial = {"input": request.form.get("input", ""), "version": request.form.get("version", "")}
    try:
        given = _json("input", "input")
        if not isinstance(given, dict):
            raise InvalidInput({"input": [text()["invalid_json"]]})
        outcome = dry_run(session(), rule, given, _number(trial["version"], rule, rule.latest_version))
    except TownhallError as error:
        return _rule_page(rule, 422, refused(error), trial=trial)
    return _rule_page(rule, trial=trial, outcome=outcome)


@console.post("/rules/<uuid:rule_id>/activation")
@console_page("config:write")
def activate_version(rule_id: uuid.UUID) -> Response:
    rule = _rule(rule_id)
    seen = request.form.get("rule_version", "")
    try:
        with session().begin_nested():
            activate(session(), rule, _number(request.form.get("version"), rule, 0),
                     int(seen) if seen.isdigit() and len(seen) < 10 else 0)
    except StaleVersion:
        return _rule_page(rule, 409, {"": [text()["stale"]]})
    except TownhallError as error:
        return _rule_page(rule, 422, refused(error))
    return see_other(url_for("console.rule", rule_id=rule_id, done="activated"))
