"""Validation of tenant data, shared by the CLI and the API (marshmallow; loads into plain dicts)."""

import re
import zoneinfo
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from tenants.models import DEFAULT_ACCENT, DEFAULT_PRIMARY, TenantStatus
from tenants.plans import DEFAULT_PLAN, PLANS
from townhall import validation
from townhall.localisation import LANGUAGES

SLUG_PATTERN = validation.SLUG_PATTERN  # the kernel's, which team slugs share
RESERVED_SLUGS = frozenset({"platform"})  # `platform.<random>` client ids belong to the platform itself
COLOUR = validate.Regexp(r"^#[0-9a-fA-F]{6}$", error="Must be a hex colour such as #1d4f91.")
PHONE = validate.Regexp(r"^\+?[0-9][0-9 ./()-]{5,30}$", error="Must be a phone number.")


def localised_text(max_length: int = 200) -> fields.Dict:
    return fields.Dict(
        keys=fields.String(validate=validate.OneOf(LANGUAGES)),
        values=fields.String(validate=validate.Length(min=1, max=max_length)),
        validate=validate.Length(min=1),
    )


def https_url() -> fields.Url:
    return fields.Url(schemes={"https"}, validate=validate.Length(max=2048), allow_none=True)


class LanguagesInput(Schema):
    """A municipality's names and languages: part of its registration and of its branding."""

    names = localised_text()
    default_language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))
    languages = fields.List(fields.String(validate=validate.OneOf(LANGUAGES)),
                            required=True, validate=validate.Length(min=1, max=len(LANGUAGES)))
    time_zone = fields.String(load_default="Europe/Brussels")

    @validates("time_zone")
    def _known_time_zone(self, value: str, **_: Any) -> None:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
            raise ValidationError("Unknown time zone.") from error

    @validates("languages")
    def _distinct_languages(self, value: list[str], **_: Any) -> None:
        if len(set(value)) != len(value):
            raise ValidationError("Each language once.")

    @validates_schema
    def _default_is_offered(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("default_language") not in data.get("languages", []):
            raise ValidationError("Must be one of the offered languages.", "default_language")
        if data.get("names") and data.get("default_language") not in data["names"]:
            raise ValidationError("Needs a name in the default language.", "names")


class TenantInput(LanguagesInput):
    plan = fields.String(load_default=DEFAULT_PLAN, validate=validate.OneOf(tuple(PLANS)))
    slug = fields.String(required=True, validate=validate.Regexp(f"^{SLUG_PATTERN}$",
                         error="Lower-case letters, digits and hyphens, 1 to 63 characters."))
    nis_code = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{5}$",
                             error="Must be a 5-digit NIS code."))

    @validates("slug")
    def _not_reserved(self, value: str, **_: Any) -> None:
        if value in RESERVED_SLUGS:
            raise ValidationError("This name is reserved by the platform.")


MIN_CONTRAST = 4.5
"""WCAG 2.1 AA for normal text: pages write white text on the primary colour. On the accent colour
they write black or white, whichever contrasts more, so any accent colour is legible."""


def _luminance(colour: str) -> float:
    """WCAG 2.1 relative luminance of a #rrggbb colour."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    red, green, blue = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2.1 contrast ratio of two #rrggbb colours, from 1 to 21."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


class BrandingInput(Schema):
    display_name = localised_text()
    logo_url = https_url()
    primary_colour = fields.String(validate=COLOUR)
    accent_colour = fields.String(validate=COLOUR)
    contact_email = fields.Email(allow_none=True, validate=validate.Length(max=320))
    phone = fields.String(allow_none=True, validate=PHONE)
    website = https_url()
    privacy_url = https_url()

    @validates("primary_colour")
    def _legible(self, value: str, **_: Any) -> None:
        ratio = contrast_ratio(value, "#ffffff")
        if ratio < MIN_CONTRAST:
            raise ValidationError(f"White text on this colour has a contrast of {ratio:.1f}:1; choose a darker "
                                  f"colour (at least {MIN_CONTRAST}:1, WCAG 2.1 AA).")


class BrandingSettings(BrandingInput, LanguagesInput):
    """Everything a municipality's admins set about how it presents itself: the body of a full
    replacement (what it leaves out takes its default)."""

    display_name = localised_text()
    primary_colour = fields.String(validate=COLOUR, load_default=DEFAULT_PRIMARY)
    accent_colour = fields.String(validate=COLOUR, load_default=DEFAULT_ACCENT)
    names = localised_text()


def normalise_colour(value: str) -> str:
    return value.lower() if re.fullmatch(r"#[0-9a-fA-F]{6}", value) else value


class TenantChange(Schema):
    """What the platform's operator changes about a municipality: suspend or reactivate it, its plan."""

    status = fields.String(validate=validate.OneOf([s.value for s in TenantStatus]))
    plan = fields.String(validate=validate.OneOf(tuple(PLANS)))
