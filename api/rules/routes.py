"""/t/<tenant>/v1/rules: a municipality's rules as data (`config:write`), with versions, activation
and a dry run; /v1/rule-templates: the consortium's templates (`platform:manage` to publish)."""

import uuid
from typing import Any

from flask import Response, g, jsonify, request, url_for

from api.database import session
from api.http import bad_parameter, json_body, json_object, require_if_match, version_etag, versioned
from api.oauth.protect import requires
from api.platform.routes import platform_api
from api.principal import principal
from api.tenant_api import tenant_api
from townhall.errors import NotFound
from townhall.rules.models import Rule, RuleTemplate, RuleVersion
from townhall.rules.operations import activate, add_version, create_rule, dry_run, publish_template
from townhall.rules.queries import rule_by_id, rules_of, templates, version_diff, versions_of
from townhall.rules.schemas import ActivateInput, EvaluateInput


def _version_view(version: RuleVersion) -> dict[str, Any]:
    return {"number": version.number, "expression": version.expression, "examples": version.examples,
            "reason": version.reason, "action": version.action or None,
            "template": str(version.template_id) if version.template_id else None,
            "created_at": version.created_at.isoformat(), "created_by": version.created_by}


def _rule_view(rule: Rule, with_versions: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"id": str(rule.id), "kind": rule.kind, "service": rule.service,
                            "trigger": rule.trigger or None, "active_version": rule.active_version,
                            "latest_version": rule.latest_version, "created_at": rule.created_at.isoformat()}
    if with_versions:
        body["versions"] = [_version_view(v) for v in versions_of(session(), rule)]
    return body


def _one(rule: Rule, status: int = 200) -> Response:
    return versioned(_rule_view(rule, with_versions=True), rule.version, status)


def _find(rule_id: uuid.UUID) -> Rule:
    rule = rule_by_id(session(), g.tenant.id, rule_id)
    if rule is None:
        raise NotFound("No such rule here.")
    return rule


@tenant_api.post("/rules")
@requires("config:write")
def post_rule() -> Response:
    rule, _ = create_rule(session(), g.tenant.id, json_object(), principal().actor)
    response = _one(rule, 201)
    response.headers["Location"] = url_for("tenant_api.get_rule", rule_id=rule.id)
    return response


@tenant_api.get("/rules")
@requires("config:write")
def list_rules() -> Response:
    return jsonify(items=[_rule_view(rule) for rule in rules_of(session(), g.tenant.id)], next=None)


@tenant_api.get("/rules/<uuid:rule_id>")
@requires("config:write")
def get_rule(rule_id: uuid.UUID) -> Response:
    return _one(_find(rule_id))


@tenant_api.post("/rules/<uuid:rule_id>/versions")
@requires("config:write")
def post_version(rule_id: uuid.UUID) -> Response:
    rule = _find(rule_id)
    add_version(session(), rule, json_object(), principal().actor)
    return _one(rule, 201)


@tenant_api.get("/rules/<uuid:rule_id>/diff")
@requires("config:write")
def diff_versions(rule_id: uuid.UUID) -> Response:
    """What changed between two versions (`from`, `to`: version numbers; by default the active
    version and the latest)."""
    rule = _find(rule_id)
    numbers = []
    for name, default in (("from", rule.active_version or 1), ("to", rule.latest_version)):
        raw = request.args.get(name, str(default))
        if not raw.isdigit() or not 1 <= int(raw) <= rule.latest_version:
            raise bad_parameter(f"{name} must be a version number of this rule, from 1 to {rule.latest_version}.")
        numbers.append(int(raw))
    return jsonify(version_diff(session(), rule, *numbers))


@tenant_api.post("/rules/<uuid:rule_id>/activation")
@requires("config:write")
def activate_rule(rule_id: uuid.UUID) -> Response:
    """Make a version the active one; its examples must pass (422 names the failing ones)."""
    rule = _find(rule_id)
    require_if_match(version_etag(rule.version))
    activate(session(), rule, json_body(ActivateInput)["version"])
    return _one(rule)


@tenant_api.post("/rules/<uuid:rule_id>/evaluate")
@requires("config:write")
def evaluate_rule(rule_id: uuid.UUID) -> Response:
    """A dry run: nothing is recorded."""
    data = json_body(EvaluateInput)
    return jsonify(dry_run(session(), _find(rule_id), data["input"], data.get("version")))


def _template_view(template: RuleTemplate) -> dict[str, Any]:
    return {"id": str(template.id), "slug": template.slug, "number": template.number, "kind": template.kind,
            "service": template.service, "trigger": template.trigger or None, "expression": template.expression,
            "examples": template.examples, "reason": template.reason, "action": template.action or None,
            "description": template.description, "created_at": template.created_at.isoformat()}


@tenant_api.get("/rule-templates")
@requires("config:write")
def tenant_templates() -> Response:
    """The consortium's templates a municipality may adopt (`{"template": "<slug>"}` on a rule)."""
    return jsonify(items=[_template_view(t) for t in templates(session())], next=None)


@platform_api.get("/rule-templates")
@requires("platform:manage")
def list_templates() -> Response:
    return jsonify(items=[_template_view(t) for t in templates(session())], next=None)


@platform_api.post("/rule-templates")
@requires("platform:manage")
def post_template() -> Response:
    response = jsonify(_template_view(publish_template(session(), json_object(), principal().actor)))
    response.status_code = 201
    return response
