"""Certificates from the population register: issued at once as a document with a verification code."""

from marshmallow import Schema, fields, validate

from townhall.localisation import LANGUAGES
from townhall.services.base import SYSTEM, ServiceType, Transition, Workflow

KINDS = ("residence", "household_composition", "life")


class CertificateRequest(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    language = fields.String(load_default="nl", validate=validate.OneOf(LANGUAGES))
    purpose = fields.String(validate=validate.Length(max=200))


SERVICE = ServiceType(
    code="certificate",
    names={"nl": "Attest", "fr": "Certificat", "de": "Bescheinigung", "en": "Certificate"},
    descriptions={"nl": "Woonst, gezinssamenstelling of leven: meteen als document.",
                  "fr": "Résidence, composition de ménage ou vie : immédiatement en document.",
                  "de": "Wohnsitz, Haushaltszusammensetzung oder Lebensbescheinigung: sofort als Dokument.",
                  "en": "Residence, household composition or life: at once, as a document."},
    form=CertificateRequest,
    workflow=Workflow(
        states=("requested", "issued"),
        initial="requested",
        transitions=(Transition("requested", "issued", frozenset({SYSTEM})),),  # no human in the loop
        terminal=frozenset({"issued"}),
    ),
    processing_days=0,
    fee_cents=0,
    produces="certificate (PDF) with a verification code",
)
