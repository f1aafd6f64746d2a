"""What the case routes accept (marshmallow; loads into plain dicts)."""

from marshmallow import Schema, fields, validate


class CaseInput(Schema):
    service = fields.String(required=True, validate=validate.Length(min=1, max=63))
    form = fields.Dict(required=True)
    citizen = fields.Email(metadata={"description": "Only when acting on someone's behalf."})


class AssignmentInput(Schema):
    assignee = fields.Email(allow_none=True, load_default=None, metadata={"description": "A case worker's e-mail."})
    team = fields.String(allow_none=True, load_default=None, validate=validate.Length(min=1, max=63))


class TransitionInput(Schema):
    to = fields.String(required=True, validate=validate.Length(min=1, max=40))
    note = fields.String(validate=validate.Length(max=2000))


class MessageInput(Schema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=4000))
