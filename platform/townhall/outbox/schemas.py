"""What the webhook subscriptions, replays and e-mail templates accept (marshmallow; loads into plain dicts)."""

from marshmallow import Schema, ValidationError, fields, validate

EVENT_TYPES = ("case.created", "case.status-changed", "case.assigned", "case.message-added", "case.document-added",
               "citizen.informed", "citizen.offered", "appointment.booked", "appointment.rescheduled",
               "appointment.cancelled", "appointment.reminder")


class SubscriptionInput(Schema):
    url = fields.Url(required=True, schemes={"https", "http"}, require_tld=False, validate=validate.Length(max=2048))
    event_types = fields.List(fields.String(validate=validate.OneOf(EVENT_TYPES)), load_default=list,
                              metadata={"description": "Empty: every event type."})
    active = fields.Boolean(load_default=True)


class ReplayInput(Schema):
    event = fields.UUID(metadata={"description": "One event again."})
    since = fields.AwareDateTime(data_key="from")
    until = fields.AwareDateTime(data_key="to")


def _one_line(text: str) -> None:
    if text.splitlines() != [text]:  # every line break Python's mail headers refuse, a trailing one too
        raise ValidationError("One line.")


class TemplateText(Schema):
    subject = fields.String(required=True, validate=[validate.Length(min=1, max=200), _one_line])
    body = fields.String(required=True, validate=validate.Length(min=1, max=5000))


class LanguageTexts(Schema):
    """One field per language (not a dict), so that a problem is named `texts.fr.subject`."""

    nl = fields.Nested(TemplateText)
    fr = fields.Nested(TemplateText)
    de = fields.Nested(TemplateText)
    en = fields.Nested(TemplateText)


class EmailTemplateInput(Schema):
    texts = fields.Nested(LanguageTexts, load_default=dict,
                          metadata={"description": "Per language; a language left out sends the platform's words."})
