"""Change of address: declare, the neighbourhood officer checks, registered or refused."""

from datetime import date, timedelta
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from townhall.services.base import STAFF, Retention, ServiceType, Transition, Workflow


class NewAddress(Schema):
    street = fields.String(required=True, validate=validate.Length(min=1, max=200))
    number = fields.String(required=True, validate=validate.Length(min=1, max=10))
    box = fields.String(validate=validate.Length(max=10))
    postal_code = fields.String(required=True, validate=validate.Regexp(r"^[1-9][0-9]{3}$"))
    municipality = fields.String(required=True, validate=validate.Length(min=1, max=100))


class AddressDeclaration(Schema):
    new_address = fields.Nested(NewAddress, required=True)
    moved_on = fields.Date(required=True)
    household = fields.List(fields.String(validate=validate.Length(min=1, max=200)), load_default=list,
                            validate=validate.Length(max=20))

    @validates("moved_on")
    def _recent(self, value: date, **_: Any) -> None:
        if not date.today() - timedelta(days=60) <= value <= date.today() + timedelta(days=30):
            raise ValidationError("Declare a move within 60 days after it, or up to 30 days before.")


SERVICE = ServiceType(
    code="address-change",
    names={"nl": "Adreswijziging", "fr": "Changement d'adresse", "de": "Adressänderung", "en": "Change of address"},
    descriptions={"nl": "Geef je verhuis door; de wijkagent komt langs.",
                  "fr": "Déclarez votre déménagement; l'agent de quartier passe.",
                  "de": "Melden Sie Ihren Umzug; der Bezirksbeamte kommt vorbei.",
                  "en": "Declare your move; the neighbourhood officer visits."},
    form=AddressDeclaration,
    workflow=Workflow(
        states=("submitted", "neighbourhood_check", "registered", "refused"),
        initial="submitted",
        transitions=(
            # The officer's visit is internal work: the citizen hears of the outcome only.
            Transition("submitted", "neighbourhood_check", STAFF, informs_citizen=False),
            Transition("neighbourhood_check", "registered", STAFF),
            Transition("neighbourhood_check", "refused", STAFF),
        ),
        terminal=frozenset({"registered", "refused"}),
    ),
    processing_days=15,
    retention=Retention(1825, 365, 3650, "five years; the population register itself keeps the address history"),
    fee_cents=0,
    produces="registration in the population register",
)
