"""Reports about public space: a pothole, litter, a broken street light…"""

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from townhall.services.base import STAFF, ServiceType, Transition, Workflow

CATEGORIES = ("pothole", "litter", "street_light", "graffiti", "illegal_dumping", "other")


class Report(Schema):
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    description = fields.String(required=True, validate=validate.Length(min=3, max=2000))
    lat = fields.Float(validate=validate.Range(min=-90, max=90), allow_nan=False)
    long = fields.Float(validate=validate.Range(min=-180, max=180), allow_nan=False)
    address = fields.String(validate=validate.Length(min=3, max=300))

    @validates_schema
    def _somewhere(self, data: dict[str, Any], **_: Any) -> None:
        has_point = "lat" in data and "long" in data
        if ("lat" in data) != ("long" in data):
            raise ValidationError("Give both lat and long.", "lat" if "lat" not in data else "long")
        if not has_point and not data.get("address"):
            raise ValidationError("Say where: lat and long, or an address.", "address")


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
    fee_cents=0,
    evidence=("photo",),
)
