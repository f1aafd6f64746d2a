"""Read-side lookups for webhook subscriptions and their deliveries."""

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from townhall.outbox.models import Attempt, Delivery, EmailTemplate, Subscription


def subscriptions_of(session: Session, tenant_id: uuid.UUID) -> Sequence[Subscription]:
    return session.scalars(select(Subscription).where(Subscription.tenant_id == tenant_id)
                           .order_by(Subscription.id)).all()


def subscription_of(session: Session, tenant_id: uuid.UUID, subscription_id: uuid.UUID) -> Subscription | None:
    return session.scalars(select(Subscription).where(Subscription.tenant_id == tenant_id,
                                                      Subscription.id == subscription_id)).first()


def delivery_log(session: Session, subscription: Subscription, after: uuid.UUID | None,
                 limit: int) -> list[tuple[Delivery, list[Attempt]]]:
    """Newest first, each with its attempts: two queries whatever the page size."""
    query = select(Delivery).where(Delivery.tenant_id == subscription.tenant_id,
                                   Delivery.subscription_id == subscription.id)
    if after is not None:
        query = query.where(Delivery.id < after)
    deliveries = session.scalars(query.order_by(Delivery.id.desc()).limit(limit)).all()
    attempts = session.scalars(select(Attempt).where(Attempt.tenant_id == subscription.tenant_id,
                                                     Attempt.delivery_id.in_([d.id for d in deliveries]))
                               .order_by(Attempt.at)).all() if deliveries else []
    return [(d, [a for a in attempts if a.delivery_id == d.id]) for d in deliveries]


def delivery_health(session: Session, tenant_id: uuid.UUID) -> tuple[int, int, int]:
    """A municipality's deliveries waiting to go out, those that gave up (dead), and its webhook
    subscriptions the platform disabled: one query each, for the consortium console."""
    pending, dead = session.execute(
        select(func.count().filter(Delivery.status == "pending"), func.count().filter(Delivery.status == "dead"))
        .where(Delivery.tenant_id == tenant_id)
    ).one()
    disabled = session.scalar(select(func.count()).select_from(Subscription).where(
        Subscription.tenant_id == tenant_id, Subscription.active.is_(False))) or 0
    return int(pending), int(dead), int(disabled)


def email_templates_of(session: Session, tenant_id: uuid.UUID) -> dict[str, EmailTemplate]:
    """The municipality's own e-mail texts, by event type (what it never rewrote is absent)."""
    rows = session.scalars(select(EmailTemplate).where(EmailTemplate.tenant_id == tenant_id))
    return {row.event_type: row for row in rows}


def email_template_of(session: Session, tenant_id: uuid.UUID, event_type: str) -> EmailTemplate | None:
    return session.get(EmailTemplate, (tenant_id, event_type))
