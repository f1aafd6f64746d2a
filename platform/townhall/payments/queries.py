"""Reads of payments (the tenant is always given: row-level security checks it again)."""

import uuid
from collections.abc import Sequence

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from townhall.cases.models import Case
from townhall.cases.operations import CLOSED_UNDONE
from townhall.payments.models import ONLINE, Payment


def payments_of_case(session: Session, tenant_id: uuid.UUID, case_id: uuid.UUID) -> Sequence[Payment]:
    return session.scalars(select(Payment).where(Payment.tenant_id == tenant_id, Payment.case_id == case_id)
                           .order_by(Payment.created_at, Payment.id)).all()


def payment_of_case(session: Session, tenant_id: uuid.UUID, case_id: uuid.UUID,
                    payment_id: uuid.UUID) -> Payment | None:
    return session.scalars(select(Payment).where(Payment.tenant_id == tenant_id, Payment.case_id == case_id,
                                                 Payment.id == payment_id)).first()


def paid_payment(session: Session, tenant_id: uuid.UUID, case_id: uuid.UUID,
                 before: Payment | None = None) -> Payment | None:
    """The payment that paid the case (the first paid one), if any; with `before`, one paid before it."""
    query = select(Payment).where(Payment.tenant_id == tenant_id, Payment.case_id == case_id,
                                  Payment.status == "paid")
    if before is not None:
        query = query.where(Payment.id != before.id, Payment.paid_at <= (before.paid_at or before.created_at))
    return session.scalars(query.order_by(Payment.paid_at, Payment.id).limit(1)).first()


def refunds_due(session: Session, tenant_id: uuid.UUID, limit: int = 100) -> Sequence[Payment]:
    """Paid online payments to give back: their case was cancelled or refused, or another payment
    had paid it already."""
    earlier = aliased(Payment)
    paid_before = exists().where(earlier.tenant_id == Payment.tenant_id, earlier.case_id == Payment.case_id,
                                 earlier.status == "paid",
                                 earlier.id != Payment.id, earlier.paid_at < Payment.paid_at)
    undone = exists().where(Case.tenant_id == Payment.tenant_id, Case.id == Payment.case_id,
                            Case.status.in_(sorted(CLOSED_UNDONE)))
    return session.scalars(select(Payment).where(
        Payment.tenant_id == tenant_id, Payment.method == ONLINE, Payment.status == "paid",
        paid_before | undone).order_by(Payment.id).limit(limit)).all()
