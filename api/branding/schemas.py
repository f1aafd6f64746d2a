"""The public, localised view of a municipality's branding."""

from marshmallow import Schema, fields


class ColoursOut(Schema):
    primary = fields.String()
    accent = fields.String()


class ContactOut(Schema):
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    website = fields.String(allow_none=True)


class BrandingOut(Schema):
    tenant = fields.String()
    language = fields.String()
    display_name = fields.String()
    name = fields.String()
    logo_url = fields.String(allow_none=True)
    colours = fields.Nested(ColoursOut)
    contact = fields.Nested(ContactOut)
    privacy_url = fields.String(allow_none=True)
    languages = fields.List(fields.String())
    default_language = fields.String()
    time_zone = fields.String()
