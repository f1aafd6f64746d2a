"""What a rule, a template and a dry run look like on input, and the life events and kinds of action
that proactive rules name (`townhall.proactive` acts on them)."""

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from townhall.localisation import LANGUAGES
from townhall.rules.engine import KINDS
from townhall.validation import INTEGER_COLUMN_MAX

ACTIONS = ("inform", "offer", "open")
EVENT_TYPES = ("be.person.born", "be.person.moved-in", "be.person.moved-out", "be.person.turns-18",
               "be.document.eid-expiring")
LocalisedText = fields.Dict(keys=fields.String(validate=validate.OneOf(LANGUAGES)),
                            values=fields.String(validate=validate.Length(min=1, max=1000)))


class Example(Schema):
    input = fields.Dict(required=True)
    expected = fields.Raw(required=True, allow_none=False)


class Action(Schema):
    """What a proactive rule does when its condition holds."""

    type = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    form = fields.Dict(load_default=dict, metadata={"description": "Pre-filled form (offer, open)."})
    message = fields.Dict(keys=fields.String(validate=validate.OneOf(LANGUAGES)),
                          values=fields.String(validate=validate.Length(min=1, max=2000)), load_default=dict)


class _Body(Schema):
    examples = fields.List(fields.Nested(Example), load_default=list, validate=validate.Length(max=50))
    reason = fields.Dict(keys=fields.String(validate=validate.OneOf(LANGUAGES)),
                         values=fields.String(validate=validate.Length(min=1, max=1000)), load_default=dict,
                         metadata={"description": "Eligibility: why not, per language."})
    action = fields.Nested(Action, load_default=None, allow_none=True)


class VersionInput(_Body):
    """A new version: its own expression (an override) or a template's (`template`: its slug)."""

    expression = fields.String(validate=validate.Length(min=1, max=4000))
    template = fields.String(validate=validate.Length(min=1, max=63))
    activate = fields.Boolean(load_default=False, metadata={
        "description": "Make this version the active one in the same call (its examples must pass)."})

    @validates_schema
    def _one_source(self, data: dict[str, Any], **_: Any) -> None:
        if ("expression" in data) == ("template" in data):
            raise ValidationError("Give either an expression or a template.", "expression")


class _Target(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(tuple(KINDS)))
    service = fields.String(required=True, validate=validate.Length(min=1, max=63))
    trigger = fields.String(validate=validate.OneOf(EVENT_TYPES),
                            metadata={"description": "Proactive rules: the life event that triggers them."})


class RuleInput(VersionInput, _Target):
    pass


class TemplateInput(_Body, _Target):
    expression = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    slug = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"))
    description = fields.String(load_default="", validate=validate.Length(max=2000))


class EvaluateInput(Schema):
    input = fields.Dict(required=True)
    version = fields.Integer(validate=validate.Range(min=1, max=INTEGER_COLUMN_MAX))


class ActivateInput(Schema):
    version = fields.Integer(required=True, validate=validate.Range(min=1, max=INTEGER_COLUMN_MAX))
