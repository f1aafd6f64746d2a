"""Residents' parking permit: a Belgian plate, a zone, one year."""

import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from townhall.services.base import ANYONE, STAFF, SYSTEM, Retention, ServiceType, Transition, Workflow

# Current plates: 1-ABC-234 (digit, three letters, three digits); older ones ABC-123 and 123-ABC.
BELGIAN_PLATE = re.compile(r"^(?:[1-9]-?[A-Z]{3}-?[0-9]{3}|[A-Z]{3}-?[0-9]{3}|[0-9]{3}-?[A-Z]{3})$")


def normal_plate(value: str) -> str:
    return value.strip().upper().replace(" ", "")


class PermitRequest(Schema):
    plate = fields.String(required=True, validate=validate.Length(min=6, max=12))
    zone = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9-]{1,20}$"))
    starts_on = fields.Date(required=True)

    @validates("plate")
    def _belgian(self, value: str, **_: Any) -> None:
        if not BELGIAN_PLATE.match(normal_plate(value)):
            raise ValidationError("Not a Belgian number plate (for example 1-ABC-234).")


SERVICE = ServiceType(
    code="parking-permit",
    names={"nl": "Bewonerskaart parkeren", "fr": "Carte de riverain", "de": "Anwohnerparkausweis",
           "en": "Residents' parking permit"},
    descriptions={"nl": "Parkeer in je zone, een jaar lang.", "fr": "Stationnez dans votre zone pendant un an.",
                  "de": "Parken Sie ein Jahr lang in Ihrer Zone.", "en": "Park in your zone for a year."},
    form=PermitRequest,
    workflow=Workflow(
        states=("submitted", "fee_due", "issued", "refused", "cancelled"),
        initial="submitted",
        transitions=(
            Transition("submitted", "fee_due", STAFF),
            Transition("submitted", "refused", STAFF),
            Transition("fee_due", "issued", STAFF | {SYSTEM}),
            Transition("submitted", "cancelled", ANYONE),
            Transition("fee_due", "cancelled", ANYONE),
        ),
        terminal=frozenset({"issued", "refused", "cancelled"}),
    ),
    processing_days=5,
    retention=Retention(1095, 365, 3650, "three years: a permit runs one year, then the period to contest its fee"),
    fee_cents=5_000,
    produces="parking permit valid one year",
)
