"""Electronic identity card: apply, pay, production, pick up at the counter."""

from collections.abc import Mapping
from datetime import date
from typing import Any

from marshmallow import fields, validate

from townhall.forms import MAX_PHOTO_BYTES, PHOTO_TYPES, Form, Upload, required_when
from townhall.services.base import (
    ANYONE,
    STAFF,
    SYSTEM,
    Applicant,
    Retention,
    ServiceType,
    Transition,
    Workflow,
    age_on,
)

REASONS = ("first", "renewal", "lost", "stolen", "damaged", "change_of_data")


class CardRequest(Form):
    reason = fields.String(required=True, validate=validate.OneOf(REASONS))
    police_report = fields.String(validate=validate.Length(min=3, max=50),
                                  metadata={"description": "Reference of the police report (lost or stolen)."})
    contact_phone = fields.String(validate=validate.Regexp(r"^\+?[0-9][0-9 ./()-]{5,30}$"))
    photo = Upload(PHOTO_TYPES, MAX_PHOTO_BYTES, required=True, metadata={
        "description": "A recent passport photo (ICAO rules): JPEG or PNG, base64-encoded."})

    rules = (required_when("police_report", "reason", ("stolen",),
                           "A stolen card needs the police report's reference."),)


ISSUING = Workflow(
    states=("submitted", "fee_due", "production_ordered", "ready_for_pickup", "pickup_booked", "handed_over",
            "cancelled"),
    initial="submitted",
    transitions=(
        Transition("submitted", "fee_due", STAFF),
        Transition("fee_due", "production_ordered", STAFF | {SYSTEM}),
        Transition("production_ordered", "ready_for_pickup", STAFF | {SYSTEM}),
        # Booking a pickup appointment moves the case on; cancelling the appointment moves it back.
        Transition("ready_for_pickup", "pickup_booked", frozenset({SYSTEM})),
        Transition("pickup_booked", "ready_for_pickup", frozenset({SYSTEM})),
        Transition("ready_for_pickup", "handed_over", STAFF),
        Transition("pickup_booked", "handed_over", STAFF),
        Transition("submitted", "cancelled", ANYONE),
        Transition("fee_due", "cancelled", ANYONE),
        Transition("production_ordered", "cancelled", STAFF, informs_citizen=True),
    ),
    terminal=frozenset({"handed_over", "cancelled"}),
)


def eligible_from_twelve(applicant: Applicant, _form: Mapping[str, Any], today: date) -> str | None:
    """Refuses only on what is known: unknown facts are checked at the counter."""
    if applicant.resident is False:
        return "not_resident"
    if applicant.birth_date is not None and age_on(applicant.birth_date, today) < 12:
        return "too_young"
    return None


SERVICE = ServiceType(
    code="eid-card",
    names={"nl": "Elektronische identiteitskaart", "fr": "Carte d'identité électronique",
           "de": "Elektronischer Personalausweis", "en": "Electronic identity card"},
    descriptions={"nl": "Vraag een nieuwe eID aan en haal ze af aan het loket.",
                  "fr": "Demandez une nouvelle eID et retirez-la au guichet.",
                  "de": "Beantragen Sie einen neuen eID und holen Sie ihn am Schalter ab.",
                  "en": "Apply for a new eID and pick it up at the counter."},
    form=CardRequest,
    workflow=ISSUING,
    processing_days=15,
    retention=Retention(3650, 365, 5475, "ten years, the longest validity of the card the case issued"),
    fee_cents=2000,
    evidence=("photo",),
    produces="identity card",
    eligibility=eligible_from_twelve,
)
