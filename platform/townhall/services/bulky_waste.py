"""Bulky-waste pickup: what and how much; the fee follows the volume; the date is chosen later."""

import math
from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, fields, validate

from townhall.services.base import ANYONE, STAFF, SYSTEM, Retention, ServiceType, Transition, Workflow

KINDS = ("furniture", "mattress", "appliance", "wood", "metal", "other")


class Item(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    quantity = fields.Integer(required=True, validate=validate.Range(min=1, max=50))


class PickupRequest(Schema):
    items = fields.List(fields.Nested(Item), required=True, validate=validate.Length(min=1, max=30))
    volume_m3 = fields.Float(required=True, validate=validate.Range(min=0.5, max=10), allow_nan=False)
    notes = fields.String(validate=validate.Length(max=500))


def fee_by_volume(form: Mapping[str, Any], base_per_m3: int) -> int:
    return base_per_m3 * math.ceil(float(form["volume_m3"]))


SERVICE = ServiceType(
    code="bulky-waste",
    names={"nl": "Ophaling grofvuil", "fr": "Enlèvement des encombrants", "de": "Sperrmüllabholung",
           "en": "Bulky-waste pickup"},
    descriptions={"nl": "We halen je grofvuil aan huis op; je kiest later de dag.",
                  "fr": "Nous enlevons vos encombrants à domicile ; vous choisissez le jour ensuite.",
                  "de": "Wir holen Ihren Sperrmüll ab; den Tag wählen Sie später.",
                  "en": "We pick up your bulky waste at home; you choose the day later."},
    form=PickupRequest,
    workflow=Workflow(
        states=("submitted", "fee_due", "scheduled", "collected", "cancelled"),
        initial="submitted",
        transitions=(
            Transition("submitted", "fee_due", STAFF | {SYSTEM}),
            Transition("fee_due", "scheduled", ANYONE | {SYSTEM}),
            Transition("scheduled", "collected", STAFF),
            Transition("submitted", "cancelled", ANYONE),
            Transition("fee_due", "cancelled", ANYONE),
            Transition("scheduled", "cancelled", ANYONE),
        ),
        terminal=frozenset({"collected", "cancelled"}),
    ),
    processing_days=10,
    retention=Retention(365, 90, 1825, "one year after the collection, for complaints about it"),
    fee_cents=2_000,
    fee=fee_by_volume,
)
