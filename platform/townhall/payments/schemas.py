"""What a request to pay a case's fee, and a provider's notice, may hold."""

from marshmallow import Schema, fields, validate

from townhall.payments.models import COUNTER, ONLINE


class PaymentInput(Schema):
    method = fields.String(required=True, validate=validate.OneOf((ONLINE, COUNTER)))
    # Where the provider sends the citizen back (a portal's page); the platform's portal otherwise.
    return_url = fields.Url(schemes={"http", "https"}, require_tld=False, validate=validate.Length(max=2000))


class ProviderNotice(Schema):
    """Mollie's webhook: the payment's id, form-encoded, and nothing else to trust."""

    id = fields.String(required=True, validate=validate.Regexp(r"^tr_[A-Za-z0-9]{1,60}$"))
