"""What a life event and a citizen's proactive preferences look like on input."""

from marshmallow import Schema, fields, validate

from townhall.rules.schemas import EVENT_TYPES


class Person(Schema):
    ref = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9._:-]{1,64}$"),
                        metadata={"description": "The register's (pseudonymous) reference of the person."})
    email = fields.Email(metadata={"description": "Links the person to their account here, if they have one."})


class EventData(Schema):
    person = fields.Nested(Person, required=True)
    birth_date = fields.Date()
    address = fields.Dict()
    expires_on = fields.Date(metadata={"description": "be.document.eid-expiring: the card's expiry date."})


class EventInput(Schema):
    """A CloudEvents 1.0 event (structured JSON)."""

    specversion = fields.String(required=True, validate=validate.Equal("1.0"))
    id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    source = fields.String(required=True, validate=validate.Length(min=1, max=300))
    type = fields.String(required=True, validate=validate.OneOf(EVENT_TYPES))
    subject = fields.String(validate=validate.Length(max=300))
    time = fields.DateTime()
    datacontenttype = fields.String(validate=validate.Equal("application/json"))
    data = fields.Nested(EventData, required=True)


class PreferencesInput(Schema):
    """Which proactive actions the citizen accepts from this municipality (all, unless switched off)."""

    inform = fields.Boolean(load_default=True)
    offer = fields.Boolean(load_default=True)
    open = fields.Boolean(load_default=True)


class AcceptInput(Schema):
    form = fields.Dict(load_default=dict, metadata={
        "description": "Fields that complete the offer's pre-filled form (for example the photo)."})
