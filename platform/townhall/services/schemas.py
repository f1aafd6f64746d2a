"""Validation of a catalogue entry (marshmallow; loads into plain dicts)."""

from marshmallow import Schema, fields, validate

from townhall.localisation import LANGUAGES

CHANNELS = ("online", "counter", "phone", "post")


def _localised() -> fields.Dict:
    return fields.Dict(keys=fields.String(validate=validate.OneOf(LANGUAGES)),
                       values=fields.String(validate=validate.Length(min=1, max=2000)), load_default=dict)


class CatalogInput(Schema):
    enabled = fields.Boolean(load_default=True)
    names = _localised()
    descriptions = _localised()
    fee_cents = fields.Integer(validate=validate.Range(min=0, max=1_000_000), strict=True)
    processing_days = fields.Integer(validate=validate.Range(min=0, max=365), strict=True)
    retention_days = fields.Integer(validate=validate.Range(min=1, max=36_500), strict=True)  # and the service's bounds
    channels = fields.List(fields.String(validate=validate.OneOf(CHANNELS)), load_default=lambda: ["online"],
                           validate=validate.Length(min=1, max=len(CHANNELS)))
