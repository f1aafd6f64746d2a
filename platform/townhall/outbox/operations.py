"""Write use-cases of the outbox: emit an event; subscribe, change, rotate a webhook's secret,
replay. The caller commits."""

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from townhall.changes.diff import differences
from townhall.changes.operations import record
from townhall.clock import utcnow
from townhall.errors import InvalidInput, NotFound, StaleVersion
from townhall.ids import new_id
from townhall.outbox import ssrf
from townhall.outbox.delivery import cloud_event
from townhall.outbox.models import Delivery, EmailTemplate, OutboxEvent, Subscription
from townhall.outbox.schemas import EmailTemplateInput, SubscriptionInput
from townhall.outbox.secrets import Sealer, new_secret
from townhall.outbox.texts import PLACEHOLDERS, TEXTS, effective, text_problems
from townhall.validation import load

ROTATION_OVERLAP = timedelta(hours=24)


def event_row(tenant_id: uuid.UUID, event_type: str, subject: str, data: dict[str, Any],
              at: datetime | None = None) -> dict[str, Any]:
    """Every column of a new event (`at`: when it happened, now by default). The one way an event
    is made: `emit` adds it through the ORM, a Core write inserts the row as it is."""
    return {"tenant_id": tenant_id, "id": new_id(), "type": event_type, "subject": subject,
            "time": utcnow() if at is None else at, "data": data, "delivered_at": None}


def emit(session: Session, tenant_id: uuid.UUID, event_type: str, subject: str, data: dict[str, Any]) -> OutboxEvent:
    """Write an event in the transaction of the change it tells of; the worker delivers it."""
    event = OutboxEvent(**event_row(tenant_id, event_type, subject, data))
    session.add(event)
    return event


def _checked(values: Mapping[str, Any], egress: ssrf.Policy) -> None:
    try:
        ssrf.check(values["url"], egress)
    except ssrf.Refused as refused:
        raise InvalidInput({"url": [str(refused)]}) from refused


SUBSCRIPTION_FIELDS = ("url", "event_types", "active")
"""What the history shows of a webhook subscription (never its secret, only that a new one was issued)."""


def _settings(subscription: Subscription) -> dict[str, Any]:
    return {"url": subscription.url, "event_types": list(subscription.event_types), "active": subscription.active}


def _record(session: Session, subscription: Subscription, changes: dict[str, Any], actor: str) -> None:
    record(session, subscription.tenant_id, actor, "webhooks",
           {f"{subscription.id}.{name}": change for name, change in changes.items()})


def subscribe(session: Session, tenant_id: uuid.UUID, data: Mapping[str, Any], sealer: Sealer, actor: str,
              egress: ssrf.Policy) -> tuple[Subscription, str]:
    """A subscription and its signing secret, which is shown this once."""
    values = load(SubscriptionInput, data)
    _checked(values, egress)
    secret = new_secret()
    subscription = Subscription(tenant_id=tenant_id, url=values["url"], event_types=sorted(set(values["event_types"])),
                                active=values["active"], secret=sealer.seal(secret), created_by=actor)
    session.add(subscription)
    session.flush()
    _record(session, subscription, differences({}, _settings(subscription), SUBSCRIPTION_FIELDS), actor)
    return subscription, secret


def change(session: Session, subscription: Subscription, data: Mapping[str, Any], egress: ssrf.Policy,
           expected_version: int | None = None, *, actor: str = "platform") -> Subscription:
    if expected_version is not None and expected_version != subscription.version:
        raise StaleVersion("The subscription changed since you read it.")
    values = load(SubscriptionInput, {"url": subscription.url, "event_types": subscription.event_types,
                                        "active": subscription.active} | dict(data))
    _checked(values, egress)
    before = _settings(subscription)
    subscription.url, subscription.event_types = values["url"], sorted(set(values["event_types"]))
    if values["active"] and not subscription.active:
        subscription.disabled_reason = None
    subscription.active = values["active"]
    session.flush()
    _record(session, subscription, differences(before, _settings(subscription), SUBSCRIPTION_FIELDS), actor)
    return subscription


def unsubscribe(session: Session, subscription: Subscription, *, actor: str = "platform") -> None:
    _record(session, subscription, differences(_settings(subscription), {}, SUBSCRIPTION_FIELDS), actor)
    session.delete(subscription)
    session.flush()


def rotate(session: Session, subscription: Subscription, sealer: Sealer, now: datetime, *,
           actor: str = "platform") -> str:
    """A new secret; the old one keeps signing beside it for ROTATION_OVERLAP, so the partner can
    switch without missing a delivery."""
    secret = new_secret()
    subscription.previous_secret, subscription.previous_until = subscription.secret, now + ROTATION_OVERLAP
    subscription.secret = sealer.seal(secret)
    session.flush()
    _record(session, subscription, {"secret": {"from": None, "to": "new"}}, actor)
    return secret


def replay(session: Session, subscription: Subscription, source: str, event_id: uuid.UUID | None,
           since: datetime | None, until: datetime | None, now: datetime) -> int:
    """Deliver one event, or those of a time range, again (new deliveries, the same event ids)."""
    query = select(OutboxEvent).where(OutboxEvent.tenant_id == subscription.tenant_id)
    if event_id is not None:
        query = query.where(OutboxEvent.id == event_id)
    else:
        if since is None or until is None or until <= since or until - since > timedelta(days=31):
            raise InvalidInput({"from": ["Give an event, or a range of at most 31 days (from < to)."]})
        query = query.where(OutboxEvent.time >= since, OutboxEvent.time < until)
    events = [e for e in session.scalars(query.order_by(OutboxEvent.time).limit(10_000))
              if not subscription.event_types or e.type in subscription.event_types]
    for event in events:
        session.add(Delivery(tenant_id=subscription.tenant_id, subscription_id=subscription.id, event_id=event.id,
                             event_type=event.type, payload=cloud_event(event, source), next_attempt_at=now))
    session.flush()
    return len(events)


def save_email_template(session: Session, tenant_id: uuid.UUID, event_type: str, data: Mapping[str, Any],
                        template: EmailTemplate | None, *, actor: str = "platform") -> EmailTemplate | None:
    """Replace the municipality's words for one event's e-mail (a language left out, or the same as
    the platform's, sends the platform's); recorded in the history per language."""
    if event_type not in PLACEHOLDERS:
        raise NotFound("No e-mail is sent for this event.")
    values = load(EmailTemplateInput, data)
    problems = {f"texts.{language}.{part}": found for language, text in values["texts"].items()
                for part in ("subject", "body") if (found := text_problems(text[part], event_type))}
    if problems:
        raise InvalidInput(problems)
    custom = {language: text for language, text in values["texts"].items() if text != TEXTS[event_type][language]}
    before = effective(event_type, template.texts if template else {})
    if template is None and not custom:
        return None  # the platform's words, as before
    if template is None:
        template = EmailTemplate(tenant_id=tenant_id, event_type=event_type, texts=custom)
        session.add(template)
    elif template.texts != custom:
        template.texts, template.updated_at = custom, utcnow()
    session.flush()
    record(session, tenant_id, actor, f"email-template:{event_type}",
           differences(before, effective(event_type, custom), TEXTS[event_type]))
    return template
