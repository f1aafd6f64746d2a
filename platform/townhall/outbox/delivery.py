"""From outbox to partner: fan each event out to the subscriptions that want it, send with Standard
Webhooks signatures, retry with exponential back-off and jitter for up to 24 hours, then dead letter.

Sending happens outside the database: `send` takes what it needs and returns what happened."""

import json
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from sqlalchemy import select
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from townhall.auth.models import User
from townhall.outbox import ssrf
from townhall.outbox.mail import CitizenOf, recipients
from townhall.outbox.models import Attempt, Delivery, OutboxEvent, Subscription
from townhall.outbox.secrets import Sealer

if TYPE_CHECKING:
    from requests.adapters import _HostParams, _PoolKwargs

GIVE_UP_AFTER = timedelta(hours=24)
FIRST_RETRY_SECONDS = 5
LONGEST_WAIT_SECONDS = 3600
MAX_RESPONSE_BYTES = 65_536  # an answer is read this far, no further
TIMEOUT_SECONDS = 10.0
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"  # structured mode, as receivers recognise it


def cloud_event(event: OutboxEvent, source: str) -> dict[str, Any]:
    """CloudEvents 1.0, structured JSON; `source` is the municipality's API URL."""
    return {"specversion": "1.0", "id": str(event.id), "source": source, "type": event.type,
            "subject": event.subject, "time": event.time.isoformat(), "datacontenttype": "application/json",
            "data": event.data}


def _skips_locked(session: Session) -> bool:
    """Rows another worker holds are skipped, not waited for (PostgreSQL; SQLite has one worker)."""
    return session.get_bind().dialect.name == "postgresql"


def fan_out(session: Session, tenant_id: uuid.UUID, source: str, now: datetime, citizen_of: CitizenOf | None = None,
            limit: int = 500) -> int:
    """One delivery per new outbox event and interested active subscription, and (given `citizen_of`,
    when e-mail is on) one per person the event concerns; the event is done."""
    query = (select(OutboxEvent).where(OutboxEvent.tenant_id == tenant_id, OutboxEvent.delivered_at.is_(None))
             .order_by(OutboxEvent.time, OutboxEvent.id).limit(limit))
    if _skips_locked(session):
        query = query.with_for_update(skip_locked=True)
    events = session.scalars(query).all()
    if not events:
        return 0
    subscriptions = session.scalars(select(Subscription).where(Subscription.tenant_id == tenant_id,
                                                               Subscription.active.is_(True))).all()
    for event in events:
        for subscription in subscriptions:
            if not subscription.event_types or event.type in subscription.event_types:
                session.add(Delivery(tenant_id=tenant_id, subscription_id=subscription.id, event_id=event.id,
                                     event_type=event.type, payload=cloud_event(event, source), next_attempt_at=now))
        for person in recipients(session, event, citizen_of) if citizen_of else []:
            session.add(Delivery(tenant_id=tenant_id, channel="email", recipient_id=person, event_id=event.id,
                                 event_type=event.type, payload={"data": event.data}, next_attempt_at=now))
        event.delivered_at = now
    session.flush()
    return len(events)


def due(session: Session, tenant_id: uuid.UUID, now: datetime, limit: int = 100) -> list[tuple[Delivery, Subscription]]:
    query = (select(Delivery, Subscription)
             .join(Subscription, (Subscription.tenant_id == Delivery.tenant_id)
                   & (Subscription.id == Delivery.subscription_id))
             .where(Delivery.tenant_id == tenant_id, Delivery.channel == "webhook", Delivery.status == "pending",
                    Delivery.next_attempt_at <= now, Subscription.active.is_(True))
             .order_by(Delivery.next_attempt_at, Delivery.id).limit(limit))
    if _skips_locked(session):
        query = query.with_for_update(of=Delivery, skip_locked=True)
    return [(delivery, subscription) for delivery, subscription in session.execute(query).all()]


def due_emails(session: Session, tenant_id: uuid.UUID, now: datetime, limit: int = 100) -> list[tuple[Delivery, User]]:
    query = (select(Delivery, User).join(User, User.id == Delivery.recipient_id)
             .where(Delivery.tenant_id == tenant_id, Delivery.channel == "email", Delivery.status == "pending",
                    Delivery.next_attempt_at <= now)
             .order_by(Delivery.next_attempt_at, Delivery.id).limit(limit))
    if _skips_locked(session):
        query = query.with_for_update(of=Delivery, skip_locked=True)
    return [(delivery, user) for delivery, user in session.execute(query).all()]


@dataclass(frozen=True)
class Sending:
    """What one attempt needs, read from the rows before the network is touched."""

    delivery_id: uuid.UUID
    url: str
    body: str
    secrets: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    delivery_id: uuid.UUID
    status_code: int | None
    error: str | None
    latency_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def prepare(delivery: Delivery, subscription: Subscription, sealer: Sealer, now: datetime) -> Sending:
    secrets = [sealer.open(subscription.secret)]
    if subscription.previous_secret and subscription.previous_until and subscription.previous_until > now:
        secrets.append(sealer.open(subscription.previous_secret))
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False)
    return Sending(delivery.id, subscription.url, body, tuple(secrets))


def headers(sending: Sending, at: datetime) -> dict[str, str]:
    """`webhook-id` is the delivery's id: the same on every retry, so receivers can drop repeats."""
    message_id = f"msg_{sending.delivery_id.hex}"
    signatures = " ".join(Webhook(secret).sign(message_id, at, sending.body) for secret in sending.secrets)
    return {"content-type": CONTENT_TYPE, "webhook-id": message_id,
            "webhook-timestamp": str(int(at.timestamp())), "webhook-signature": signatures,
            "user-agent": "Townhall-Webhooks/1"}


class PinnedAdapter(HTTPAdapter):
    """Connects to the address in the URL (the one `ssrf.check` chose) while TLS is for the name in
    the Host header: SNI and certificate verification for that name, one pool per address and name."""

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: bool | str, cert: str | tuple[str, str] | None = None
    ) -> "tuple[_HostParams, _PoolKwargs]":
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        name = request.headers.get("host")
        if host_params["scheme"] == "https" and name:  # urllib3 takes the key; the stubs do not list it
            cast(dict[str, Any], pool_kwargs)["server_hostname"] = urlsplit(f"//{name}").hostname
        return host_params, pool_kwargs


def http_session(connections: int) -> requests.Session:
    """The session `send` expects: pinned connections, no proxies from the environment (the SSRF
    check is the last word)."""
    http = requests.Session()
    http.trust_env = False
    adapter = PinnedAdapter(pool_connections=64, pool_maxsize=connections)
    http.mount("https://", adapter)
    http.mount("http://", adapter)
    return http


def send(http: requests.Session, sending: Sending, at: datetime, egress: ssrf.Policy) -> Outcome:
    """One attempt through a session from `http_session`. The name is looked up once, here (it may
    point elsewhere since the subscription was saved), and the connection goes to the address that
    was checked."""
    started = time.monotonic()
    try:
        target = ssrf.check(sending.url, egress)
        with http.post(target.pinned_url, data=sending.body.encode(),
                       headers=headers(sending, at) | {"host": target.host_header},
                       timeout=TIMEOUT_SECONDS, allow_redirects=False, stream=True) as response:
            response.raw.read(MAX_RESPONSE_BYTES, decode_content=False)
            status = response.status_code
        error = None if 200 <= status < 300 else f"HTTP {status}" + (" (redirects are not followed)"
                                                                       if 300 <= status < 400 else "")
    except ssrf.Refused as refused:
        status, error = None, str(refused)
    except requests.RequestException as failure:
        status, error = None, type(failure).__name__
    return Outcome(sending.delivery_id, status, error, int((time.monotonic() - started) * 1000))


def backoff(attempts: int, randomness: random.Random | None = None) -> timedelta:
    """5 s, 10 s, 20 s … at most an hour, each between half and one and a half times that."""
    base = min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), LONGEST_WAIT_SECONDS)
    return timedelta(seconds=base * (randomness or random.Random()).uniform(0.5, 1.5))  # noqa: S311


def record(session: Session, delivery: Delivery, outcome: Outcome, now: datetime) -> None:
    """The attempt in the log; the delivery done, retried later, or dead after 24 hours."""
    session.add(Attempt(tenant_id=delivery.tenant_id, delivery_id=delivery.id, at=now,
                        status_code=outcome.status_code, error=outcome.error, latency_ms=outcome.latency_ms))
    delivery.attempts += 1
    delivery.last_status, delivery.last_error = outcome.status_code, outcome.error
    if outcome.ok:
        delivery.status, delivery.delivered_at = "delivered", now
    elif now - delivery.created_at >= GIVE_UP_AFTER:
        delivery.status = "dead"
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts)
