"""Write use-cases of payments. They validate, change and flush; the caller commits once.

A payment never trusts the citizen's return from the provider: only the provider's own answer,
fetched with the platform's key, pays a case, and only for the amount and currency it was asked."""

import logging
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from townhall.cases.models import Case
from townhall.cases.operations import add_system_document, move_on_after_fee
from townhall.clock import utcnow
from townhall.errors import Conflict
from townhall.ids import new_id
from townhall.payments.models import COUNTER, ONLINE, Payment
from townhall.payments.provider import SETTLED, PaymentProvider, decimal_text
from townhall.payments.queries import paid_payment
from townhall.pdf import Line, render
from townhall.storage import Storage
from townhall.tenancy import Municipality

log = logging.getLogger("townhall.payments")
CURRENCY = "EUR"


def start_online(session: Session, provider: PaymentProvider, municipality: Municipality, case: Case, actor: str,
                 return_url: str) -> Payment:
    """A payment of the case's fee at the provider; the citizen pays at its `checkout_url`."""
    _check_payable(session, case)
    payment = Payment(id=new_id(), tenant_id=case.tenant_id, case_id=case.id, method=ONLINE,
                      amount_cents=case.fee_cents, currency=CURRENCY, status="open", created_by=actor)
    found = provider.create(case.fee_cents, CURRENCY, f"{municipality.name} {case.reference}", return_url,
                            f"{municipality.api_url}/payments/webhooks/{provider.name}",
                            {"tenant": str(case.tenant_id), "payment": str(payment.id)})
    payment.provider_ref, payment.checkout_url = found.ref, found.checkout_url
    session.add(payment)
    session.flush()
    return payment


def pay_at_counter(session: Session, storage: Storage, municipality: Municipality, case: Case,
                   actor: str) -> Payment:
    """Staff took the fee at the counter: the case is paid now."""
    _check_payable(session, case)
    payment = Payment(id=new_id(), tenant_id=case.tenant_id, case_id=case.id, method=COUNTER,
                      amount_cents=case.fee_cents, currency=CURRENCY, status="paid", created_by=actor,
                      paid_at=utcnow())
    session.add(payment)
    session.flush()
    _settle(session, storage, municipality, case, payment, actor)
    return payment


def confirm(session: Session, provider: PaymentProvider, storage: Storage, municipality: Municipality,
            ref: str) -> Payment | None:
    """The provider said a payment changed: ask it what it is now and act on that answer alone.
    The payment changed, or None when nothing changes (unknown, still open, settled before, or an
    answer that does not match what was asked)."""
    payment = session.scalars(select(Payment).where(Payment.tenant_id == municipality.id,
                                                    Payment.provider_ref == ref).with_for_update()).first()
    if payment is None or payment.status != "open":
        return None  # unknown here, or settled before: a repeated notice pays once
    found = provider.fetch(ref)
    if found is None:
        return None
    if (found.amount_cents, found.currency, found.metadata.get("payment")) != (
            payment.amount_cents, payment.currency, str(payment.id)):
        log.warning("payment notice refused: the provider's payment does not match",
                    extra={"tenant_id": str(municipality.id), "payment": str(payment.id)})
        return None
    status = SETTLED.get(found.status)
    if status is None:
        return None
    payment.status = status
    if status == "paid":
        payment.paid_at = utcnow()
        case = session.get_one(Case, (payment.tenant_id, payment.case_id))
        _settle(session, storage, municipality, case, payment, f"payment:{provider.name}")
    session.flush()
    return payment


def refund(session: Session, provider: PaymentProvider, payment: Payment, reason: str) -> Payment:
    """Give a paid online payment back in full (the case was cancelled, or paid twice)."""
    payment.refund_ref = provider.refund(str(payment.provider_ref), payment.amount_cents, payment.currency, reason)
    payment.status, payment.refunded_at = "refunded", utcnow()
    session.flush()
    return payment


def _check_payable(session: Session, case: Case) -> None:
    if case.status != "fee_due" or case.fee_cents <= 0:
        raise Conflict("This case has no fee to pay now.")
    if paid_payment(session, case.tenant_id, case.id) is not None:
        raise Conflict("This case's fee is paid.")


def _settle(session: Session, storage: Storage, municipality: Municipality, case: Case, payment: Payment,
            actor: str) -> None:
    """The receipt among the case's documents; the case moves on if it still waits for the fee
    (otherwise the refunds chore gives this payment back)."""
    if paid_payment(session, case.tenant_id, case.id, before=payment) is not None or case.status != "fee_due":
        return
    paid_at = (payment.paid_at or utcnow()).astimezone(ZoneInfo(municipality.time_zone))
    amount = f"{payment.currency} {decimal_text(payment.amount_cents)}"
    receipt = render([Line(municipality.name, 16, bold=True), Line("Receipt / Betalingsbewijs", 13, gap_before=8),
                      Line(f"Case: {case.reference}", gap_before=12), Line(f"Amount paid: {amount}"),
                      Line(f"Paid: {paid_at:%Y-%m-%d %H:%M} ({'online' if payment.method == ONLINE else 'counter'})"),
                      Line(f"Payment: {payment.id}")], f"Receipt {case.reference}")
    add_system_document(session, storage, case, f"receipt-{case.reference}.pdf", receipt)
    move_on_after_fee(session, case, actor, f"Fee of {amount} paid.")
