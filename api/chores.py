"""What runs now and then beside requests, for every municipality: signing the audit chains'
heads, giving back fees paid for cases that will not be served, and applying retention.
`townhall audit seal`, `townhall retention run` and the worker call these; each municipality's
share is its own short transaction."""

import logging
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenants.queries import all_tenants
from townhall.audit.operations import append, seal
from townhall.auth.keys import active_key
from townhall.auth.models import User
from townhall.db import Database
from townhall.payments.models import Payment
from townhall.payments.operations import refund
from townhall.payments.provider import PaymentProvider, ProviderUnavailable
from townhall.payments.queries import refunds_due
from townhall.privacy.operations import due_for_retention, forget_account, holds_anything, pseudonymise_cases
from townhall.services.models import CatalogEntry
from townhall.services.registry import SERVICE_TYPES
from townhall.storage import Storage
from townhall.tenancy import tenant_scope

log = logging.getLogger("townhall.payments")


def seal_heads(database: Database, now: datetime | None = None) -> int:
    """Sign each chain's head that moved since it was last signed; how many were signed."""
    with database.sessions() as session:
        targets = [tenant.id for tenant in all_tenants(session)]
    signed = 0
    for tenant_id in targets:
        with database.unit_of_work() as session:
            key = active_key(session)
            if key is None:  # no key yet: nothing signs before the platform is set up
                return signed
            with tenant_scope(session, tenant_id):
                signed += seal(session, tenant_id, key, now or datetime.now(UTC)) is not None
    return signed


def refund_payments(database: Database, provider: PaymentProvider, actor: str) -> int:
    """Give back each paid online payment whose case was cancelled or refused, or that paid a case
    already paid; each refund audited in its municipality. A refund the provider refuses now is
    tried again next round (the payment stays paid)."""
    with database.sessions() as session:
        targets = [tenant.id for tenant in all_tenants(session)]
    refunded = 0
    for tenant_id in targets:
        with database.sessions() as session, tenant_scope(session, tenant_id):
            due = [payment.id for payment in refunds_due(session, tenant_id)]
        for payment_id in due:
            with database.unit_of_work() as session, tenant_scope(session, tenant_id):
                payment = session.get(Payment, (tenant_id, payment_id), with_for_update=True)
                if payment is None or payment.status != "paid":
                    continue
                try:
                    refund(session, provider, payment, "Refund: the case was not served, or was paid twice")
                except ProviderUnavailable:
                    log.warning("refund waits: the payment provider refused it", extra={"payment": str(payment_id)})
                    session.rollback()
                    continue
                append(session, tenant_id, actor, "refund", f"payment:{payment_id}",
                       {"case": str(payment.case_id), "amount_cents": payment.amount_cents})
                refunded += 1
    return refunded


def apply_retention(database: Database, storage: Storage, actor: str, now: datetime | None = None,
                    progress: Callable[[str, int], None] = lambda _slug, _count: None) -> Counter[str]:
    """Pseudonymise every closed case whose retention period has ended, a batch per transaction (no
    long locks), each batch audited in its municipality; then close the accounts of people who asked
    to be erased and whom nothing holds any more."""
    at = now or datetime.now(UTC)
    with database.sessions() as session:
        targets = [(tenant.id, tenant.slug) for tenant in all_tenants(session)]
    totals: Counter[str] = Counter()
    erased_people: set[uuid.UUID] = set()
    for tenant_id, slug in targets:
        with database.sessions() as session, tenant_scope(session, tenant_id):
            periods = [(entry.service, entry.retention_days) for entry in session.scalars(
                select(CatalogEntry).where(CatalogEntry.tenant_id == tenant_id)) if entry.service in SERVICE_TYPES]
        for service, days in periods:
            while True:
                with database.unit_of_work() as session, tenant_scope(session, tenant_id):
                    batch = due_for_retention(session, tenant_id, service, days, at)
                    if not batch:
                        break
                    citizens = {case.citizen_id for case in batch}
                    counts = pseudonymise_cases(session, storage, tenant_id, batch, at)
                    append(session, tenant_id, actor, "retention", f"service:{service}",
                           {"retention_days": days, "pseudonymised": dict(sorted(counts.items()))})
                    erased_people |= _asked_to_be_erased(session, citizens)
                totals += counts
                progress(slug, counts["cases"])
    for person_id in erased_people:
        totals["accounts"] += _forget_if_unheld(database, person_id, [t for t, _ in targets])
    return totals


def _asked_to_be_erased(session: Session, people: set[uuid.UUID]) -> set[uuid.UUID]:
    return set(session.scalars(select(User.id).where(User.id.in_(people), User.erasure_requested_at.is_not(None))))


def _forget_if_unheld(database: Database, person_id: uuid.UUID, tenants: list[uuid.UUID]) -> int:
    with database.unit_of_work() as session:
        for tenant_id in tenants:
            with tenant_scope(session, tenant_id):
                if holds_anything(session, tenant_id, person_id):
                    return 0
        person = session.get(User, person_id)
        if person is None or person.is_platform_operator or person.email_key.startswith(("erased:", "pseudonym:")):
            return 0
        forget_account(session, person)
        return 1
