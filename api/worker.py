"""`townhall worker`: deliver outbox events until stopped. Each round, per active municipality (its
rows are under row-level security): fan new events out to subscriptions, then send what is due, a
batch at a time, in parallel threads. On PostgreSQL several workers share the work (SKIP LOCKED)."""

import logging
import smtplib
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.message import EmailMessage

from sqlalchemy.orm import Session

from api.chores import apply_retention, refund_payments, seal_heads
from api.heartbeat import Heartbeat
from api.settings import Settings
from tenants.models import Tenant, TenantStatus
from tenants.queries import all_tenants, branding_of
from townhall.cases.queries import case_citizen
from townhall.db import Database
from townhall.outbox.delivery import (
    TIMEOUT_SECONDS,
    Outcome,
    due,
    due_emails,
    fan_out,
    http_session,
    prepare,
    record,
    send,
)
from townhall.outbox.mail import Brand, compose
from townhall.outbox.models import Delivery, Subscription
from townhall.outbox.operations import emit
from townhall.outbox.queries import email_templates_of
from townhall.outbox.secrets import Sealer
from townhall.outbox.ssrf import Policy
from townhall.payments.mollie import MollieProvider
from townhall.storage import LocalDiskStorage
from townhall.tenancy import tenant_scope

log = logging.getLogger("townhall.worker")
BATCH = 200
RETENTION_SECONDS = 86_400
REFUND_SECONDS = 60  # how often fees paid for cases not served are looked for and given back


class Worker:
    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings, self.database = settings, database
        self.sealer = Sealer(settings.session_secret())
        self.storage = LocalDiskStorage(settings.instance_path / "storage")  # what retention removes
        self.http = http_session(settings.worker_threads)
        self.egress = Policy.of(settings.webhooks_allow_private, settings.webhooks_allowed_ports)
        self.pool = ThreadPoolExecutor(max_workers=settings.worker_threads, thread_name_prefix="webhook")
        self.stopping = threading.Event()
        self.heartbeat = Heartbeat.of_worker(settings)  # for `townhall worker --check`
        self.last_sealed: float | None = None  # monotonic time of the last signing of audit heads
        self.last_retention: float | None = None  # and of the last retention run (daily)
        self.last_refunds: float | None = None  # and of the last look for refunds due
        self.payments = MollieProvider(settings.mollie_api_key, settings.mollie_api_url) \
            if settings.mollie_api_key else None

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.http.close()

    def run_once(self, now: datetime | None = None) -> Counter[str]:
        """One round over every active municipality; returns what happened (for logs and tests)."""
        counts: Counter[str] = Counter()
        with self.database.sessions() as session:
            tenants = [(t.id, t.slug) for t in all_tenants(session) if t.status is TenantStatus.ACTIVE]
        self.heartbeat.beat()  # the database answered
        for tenant_id, slug in tenants:
            if self.stopping.is_set():
                break
            source = self.settings.tenant_api_url(slug)
            with self.database.unit_of_work() as session, tenant_scope(session, tenant_id):
                counts["events"] += fan_out(session, tenant_id, source, now or datetime.now(UTC),
                                            case_citizen if self.settings.smtp_host is not None else None)
                session.flush()
            for channel in (self._deliver, self._mail):
                while not self.stopping.is_set():
                    self.heartbeat.beat()  # a long backlog is progress, not a hang
                    sent = channel(tenant_id, now)
                    counts += sent
                    if sum(sent.values()) < BATCH:
                        break
        return counts

    def _mail(self, tenant_id: uuid.UUID, now: datetime | None) -> Counter[str]:
        """Citizens' (and admins') e-mail: composed under the municipality's brand, sent over SMTP."""
        counts: Counter[str] = Counter()
        if self.settings.smtp_host is None:
            return counts
        with self.database.unit_of_work() as session, tenant_scope(session, tenant_id):
            at = now or datetime.now(UTC)
            batch = due_emails(session, tenant_id, at, BATCH)
            if not batch:
                return counts
            tenant = session.get(Tenant, tenant_id)
            branding = branding_of(session, tenant_id)
            assert tenant is not None
            brand = Brand(branding.display_name or tenant.names, tenant.default_language, branding.primary_colour,
                          branding.accent_colour, branding.logo_url, branding.contact_email)
            own_words = {event: template.texts for event, template in email_templates_of(session, tenant_id).items()}
            messages = [(delivery.id, compose(delivery.event_type, delivery.payload["data"], person, brand,
                                              self.settings.mail_from, tenant.languages,
                                              own_words.get(delivery.event_type)))
                        for delivery, person in batch]
            outcomes = list(self.pool.map(lambda item: send_mail(self.settings, *item), messages))
            for (delivery, _), outcome in zip(batch, outcomes, strict=True):
                record(session, delivery, outcome, now or datetime.now(UTC))
                counts[f"email {delivery.status}"] += 1
            session.flush()
        return counts

    def _deliver(self, tenant_id: uuid.UUID, now: datetime | None) -> Counter[str]:
        counts: Counter[str] = Counter()
        with self.database.unit_of_work() as session, tenant_scope(session, tenant_id):
            at = now or datetime.now(UTC)
            batch = due(session, tenant_id, at, BATCH)
            if not batch:
                return counts
            sendings = [prepare(delivery, subscription, self.sealer, at) for delivery, subscription in batch]
            outcomes = list(self.pool.map(lambda s: send(self.http, s, at, self.egress),
                                          sendings))
            for (delivery, subscription), outcome in zip(batch, outcomes, strict=True):
                record(session, delivery, outcome, now or datetime.now(UTC))
                counts[delivery.status] += 1
                if delivery.status == "dead":
                    _disable(session, subscription, delivery)
            session.flush()
        return counts

    def chores(self) -> Counter[str]:
        """Besides delivering: sign the audit chains' heads every `audit_seal_seconds`, give back
        fees of cases not served every minute, and apply retention once a day (and once at start)."""
        counts: Counter[str] = Counter()
        now = time.monotonic()
        if self.last_sealed is None or now - self.last_sealed >= self.settings.audit_seal_seconds:
            counts["audit heads signed"] = seal_heads(self.database)
            self.last_sealed = now
        if self.payments is not None and (self.last_refunds is None or now - self.last_refunds >= REFUND_SECONDS):
            counts["fees refunded"] = refund_payments(self.database, self.payments, "worker:refunds")
            self.last_refunds = now
        if self.last_retention is None or now - self.last_retention >= RETENTION_SECONDS:
            self.last_retention = now
            counts += apply_retention(self.database, self.storage, "worker:retention")
        return +counts

    def run_forever(self, idle_seconds: float = 0.5) -> None:
        while not self.stopping.is_set():
            try:
                counts = self.run_once() + self.chores()
            except Exception:  # a database restart, a bug: log, wait, go on (nothing is lost: rows stay)
                log.exception("worker round failed")
                counts = Counter()
            if not counts:
                self.stopping.wait(idle_seconds)


def send_mail(settings: Settings, delivery_id: uuid.UUID, message: EmailMessage) -> Outcome:
    started = time.monotonic()
    try:
        connect = smtplib.SMTP_SSL if settings.smtp_security == "tls" else smtplib.SMTP
        with connect(settings.smtp_host or "", settings.smtp_port, timeout=TIMEOUT_SECONDS) as smtp:
            if settings.smtp_security == "starttls":
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password or "")
            smtp.send_message(message)
        status, error = 250, None
    except (smtplib.SMTPException, OSError) as failure:
        status, error = None, f"{type(failure).__name__}: {str(failure)[:200]}"
    return Outcome(delivery_id, status, error, int((time.monotonic() - started) * 1000))


def _disable(session: Session, subscription: Subscription, delivery: Delivery) -> None:
    """A subscription whose delivery failed for 24 hours stops; the municipality hears of it as an
    event (`webhook.disabled`, which its e-mail and other subscriptions carry to its admins)."""
    if not subscription.active:
        return
    subscription.active = False
    subscription.disabled_reason = f"Delivery {delivery.id} failed for 24 hours: {delivery.last_error}."
    emit(session, subscription.tenant_id, "webhook.disabled", str(subscription.id),
         {"subscription": str(subscription.id), "url": subscription.url, "reason": subscription.disabled_reason})
