"""Reports about public space: a pothole, litter, a broken street light…"""

import math
from collections.abc import Mapping
from typing import Any

from marshmallow import fields, validate

from townhall.forms import MAX_PHOTO_BYTES, PHOTO_TYPES, Form, FormRule, Upload
from townhall.services.base import STAFF, OpenCases, Retention, ServiceType, Transition, Workflow

CATEGORIES = ("pothole", "litter", "street_light", "graffiti", "illegal_dumping", "other")


class Report(Form):
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    description = fields.String(required=True, validate=validate.Length(min=3, max=2000))
    lat = fields.Float(validate=validate.Range(min=-90, max=90), allow_nan=False)
    long = fields.Float(validate=validate.Range(min=-180, max=180), allow_nan=False)
    address = fields.String(validate=validate.Length(min=3, max=300))
    photo = Upload(PHOTO_TYPES, MAX_PHOTO_BYTES, metadata={"description": "A photo of the problem (optional)."})

    rules = (
        FormRule({"dependentRequired": {"long": ["lat"]}}, "lat", "Give both lat and long."),
        FormRule({"dependentRequired": {"lat": ["long"]}}, "long", "Give both lat and long."),
        FormRule({"if": {"not": {"anyOf": [{"required": ["lat"]}, {"required": ["long"]}]}},
                  "then": {"required": ["address"]}}, "address", "Say where: lat and long, or an address."),
    )


DUPLICATE_RADIUS_METRES = 50.0


def _distance_metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine): plenty precise over a few hundred metres."""
    lat1, long1, lat2, long2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((long2 - long1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


def possible_duplicate(form: Mapping[str, Any], open_cases: OpenCases) -> str | None:
    """An open report of the same category within DUPLICATE_RADIUS_METRES, the most recent first."""
    if "lat" not in form or "long" not in form:
        return None
    here = (float(form["lat"]), float(form["long"]))
    for reference, other in open_cases():
        lat, long = other.get("lat"), other.get("long")
        if other.get("category") != form.get("category") or lat is None or long is None:
            continue
        if _distance_metres(here, (float(lat), float(long))) <= DUPLICATE_RADIUS_METRES:
            return reference
    return None


SERVICE = ServiceType(
    code="public-space-report",
    names={"nl": "Melding openbaar domein", "fr": "Signalement sur l'espace public",
           "de": "Meldung im öffentlichen Raum", "en": "Public space report"},
    descriptions={"nl": "Een put in de weg, zwerfvuil, een kapotte straatlamp: meld het.",
                  "fr": "Un nid-de-poule, des déchets, un lampadaire en panne : signalez-le.",
                  "de": "Ein Schlagloch, Müll, eine kaputte Straßenlaterne: melden Sie es.",
                  "en": "A pothole, litter, a broken street light: report it."},
    form=Report,
    workflow=Workflow(
        states=("submitted", "acknowledged", "in_progress", "resolved", "closed"),
        initial="submitted",
        transitions=(
            Transition("submitted", "acknowledged", STAFF),
            Transition("submitted", "closed", STAFF),  # a duplicate or not ours
            Transition("acknowledged", "in_progress", STAFF),
            Transition("acknowledged", "closed", STAFF),
            Transition("in_progress", "resolved", STAFF),
        ),
        terminal=frozenset({"resolved", "closed"}),
    ),
    processing_days=10,
    retention=Retention(730, 90, 1825, "two years, for complaints about how the report was handled"),
    fee_cents=0,
    evidence=("photo",),
    possible_duplicate=possible_duplicate,
)
