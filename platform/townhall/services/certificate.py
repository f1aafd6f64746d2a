"""Certificates from the population register: issued at once as a document with a verification code."""

from dataclasses import dataclass
from datetime import date

from marshmallow import Schema, fields, validate

from townhall.localisation import LANGUAGES
from townhall.pdf import Line, render
from townhall.services.base import SYSTEM, IssuedDocument, Issuing, Retention, ServiceType, Transition, Workflow

KINDS = ("residence", "household_composition", "life")


class CertificateRequest(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    language = fields.String(load_default="nl", validate=validate.OneOf(LANGUAGES))
    purpose = fields.String(validate=validate.Length(max=200))


TITLES = {
    "residence": {"nl": "Attest van woonst", "fr": "Certificat de résidence", "de": "Wohnsitzbescheinigung",
                  "en": "Certificate of residence"},
    "household_composition": {"nl": "Attest van gezinssamenstelling", "fr": "Certificat de composition de ménage",
                              "de": "Bescheinigung der Haushaltszusammensetzung",
                              "en": "Certificate of household composition"},
    "life": {"nl": "Levensbewijs", "fr": "Certificat de vie", "de": "Lebensbescheinigung", "en": "Life certificate"},
}
LABELS = {
    "nl": ("Gemeente", "Uitgereikt aan", "Referentie", "Uitgereikt op", "Doel", "Verificatiecode",
           "Controleer de echtheid op"),
    "fr": ("Commune", "Délivré à", "Référence", "Délivré le", "Objet", "Code de vérification",
           "Vérifiez l'authenticité sur"),
    "de": ("Gemeinde", "Ausgestellt für", "Referenz", "Ausgestellt am", "Zweck", "Prüfcode", "Echtheit prüfen unter"),
    "en": ("Municipality", "Issued to", "Reference", "Issued on", "Purpose", "Verification code",
           "Check that it is genuine at"),
}


@dataclass(frozen=True)
class Issued:
    """What a certificate document states."""

    kind: str
    language: str
    municipality: str
    holder: str
    reference: str
    issued_on: date
    purpose: str | None
    verification_code: str
    verify_url: str


def document(issued: Issued) -> tuple[str, bytes]:
    """The certificate as a PDF in the language the citizen asked for: its file name and bytes."""
    title = TITLES[issued.kind][issued.language]
    municipality, holder, reference, issued_on, purpose, code, check = LABELS[issued.language]
    lines = [
        Line(issued.municipality, size=14, bold=True),
        Line(title, size=20, bold=True, gap_before=18),
        Line(f"{holder}: {issued.holder}", gap_before=24),
        Line(f"{municipality}: {issued.municipality}"),
        Line(f"{reference}: {issued.reference}"),
        Line(f"{issued_on}: {issued.issued_on.isoformat()}"),
        *([Line(f"{purpose}: {issued.purpose}")] if issued.purpose else []),
        Line(f"{code}: {issued.verification_code}", bold=True, gap_before=24),
        Line(f"{check}:"),
        Line(issued.verify_url, size=9),
    ]
    return f"{issued.reference}.pdf", render(lines, title=f"{title} {issued.reference}")


def issue(issuing: Issuing) -> IssuedDocument:
    """The certificate the form asked for, as the platform issues it when it finishes the case."""
    kind = str(issuing.form["kind"])
    filename, content = document(Issued(
        kind=kind, language=str(issuing.form.get("language", "nl")), municipality=issuing.municipality,
        holder=issuing.holder, reference=issuing.reference, issued_on=issuing.issued_on,
        purpose=issuing.form.get("purpose"), verification_code=issuing.verification_code,
        verify_url=issuing.verify_url))
    return IssuedDocument(kind=kind, filename=filename, content=content)


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
    retention=Retention(365, 30, 1825, "one year: the certificate is issued at once and checkable by its code"),
    fee_cents=0,
    produces="certificate (PDF) with a verification code",
    issues=issue,
)
