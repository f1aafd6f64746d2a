"""What the webhook routes accept (marshmallow; loads into plain dicts)."""

from marshmallow import Schema, fields


class ReplayInput(Schema):
    event = fields.UUID(metadata={"description": "One event again."})
    since = fields.AwareDateTime(data_key="from")
    until = fields.AwareDateTime(data_key="to")
