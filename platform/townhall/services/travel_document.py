"""Passport: like the identity card, with an express option at a higher fee."""

from collections.abc import Mapping
from datetime import date
from typing import Any

from marshmallow import fields, validate

from townhall.forms import MAX_PHOTO_BYTES, PHOTO_TYPES, Form, Upload
from townhall.services.base import Applicant, Retention, ServiceType
from townhall.services.eid_card import ISSUING

EXPRESS_SURCHARGE_CENTS = 17_500


class PassportRequest(Form):
    reason = fields.String(required=True, validate=validate.OneOf(("first", "renewal", "lost", "stolen", "full")))
    express = fields.Boolean(load_default=False, metadata={"description": "Delivered within two working days."})
    photo = Upload(PHOTO_TYPES, MAX_PHOTO_BYTES, required=True, metadata={
        "description": "A recent passport photo (ICAO rules): JPEG or PNG, base64-encoded."})


def resident_only(applicant: Applicant, _form: Mapping[str, Any], _today: date) -> str | None:
    return "not_resident" if applicant.resident is False else None


def passport_fee(form: Mapping[str, Any], base: int) -> int:
    return base + (EXPRESS_SURCHARGE_CENTS if form.get("express") else 0)


SERVICE = ServiceType(
    code="travel-document",
    names={"nl": "Reispas", "fr": "Passeport", "de": "Reisepass", "en": "Passport"},
    descriptions={"nl": "Vraag een reispas aan, gewoon of met spoed.", "fr": "Demandez un passeport, normal ou urgent.",
                  "de": "Beantragen Sie einen Reisepass, normal oder im Eilverfahren.",
                  "en": "Apply for a passport, normal or express."},
    form=PassportRequest,
    workflow=ISSUING,
    processing_days=10,
    retention=Retention(3650, 365, 5475, "ten years, the longest validity of the passport the case issued"),
    fee_cents=7_500,
    evidence=("photo",),
    produces="passport",
    eligibility=resident_only,
    fee=passport_fee,
)
