"""/t/<tenant>/v1/webhooks: a municipality's subscriptions for its IT partners (`webhooks:manage`):
the signing secret once, rotation with an overlap, the delivery log and replay."""

import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Response, current_app, g, jsonify, url_for

from api.database import session
from api.http import id_cursor, json_body, json_object, page_params, paged, patched, version_etag, versioned
from api.oauth.protect import requires
from api.principal import principal
from api.tenant_api import tenant_api, tenant_api_url
from townhall.errors import NotFound
from townhall.outbox.models import Attempt, Delivery, Subscription
from townhall.outbox.operations import change, replay, rotate, subscribe, unsubscribe
from townhall.outbox.queries import delivery_log, subscription_of, subscriptions_of
from townhall.outbox.schemas import ReplayInput
from townhall.outbox.secrets import Sealer
from townhall.outbox.ssrf import Policy


def sealer() -> Sealer:
    return Sealer(current_app.config["TOWNHALL_SETTINGS"].session_secret())


def egress() -> Policy:
    settings = current_app.config["TOWNHALL_SETTINGS"]
    return Policy.of(settings.webhooks_allow_private, settings.webhooks_allowed_ports)


def _view(subscription: Subscription) -> dict[str, Any]:
    return {"id": str(subscription.id), "url": subscription.url, "event_types": subscription.event_types,
            "active": subscription.active, "disabled_reason": subscription.disabled_reason,
            "previous_secret_valid_until": subscription.previous_until.isoformat()
            if subscription.previous_until else None, "created_at": subscription.created_at.isoformat()}


def _one(subscription: Subscription, status: int = 200, secret: str | None = None) -> Response:
    response = versioned(_view(subscription) | ({"secret": secret} if secret else {}), subscription.version, status)
    if secret:
        response.headers["Cache-Control"] = "no-store"
    return response


def _find(subscription_id: uuid.UUID) -> Subscription:
    found = subscription_of(session(), g.tenant.id, subscription_id)
    if found is None:
        raise NotFound("No such webhook subscription here.")
    return found


@tenant_api.post("/webhooks")
@requires("webhooks:manage")
def create_webhook() -> Response:
    subscription, secret = subscribe(session(), g.tenant.id, json_object(), sealer(), principal().actor, egress())
    response = _one(subscription, 201, secret)
    response.headers["Location"] = url_for("tenant_api.get_webhook", subscription_id=subscription.id)
    return response


@tenant_api.get("/webhooks")
@requires("webhooks:manage")
def list_webhooks() -> Response:
    return jsonify(items=[_view(s) for s in subscriptions_of(session(), g.tenant.id)], next=None)


@tenant_api.get("/webhooks/<uuid:subscription_id>")
@requires("webhooks:manage")
def get_webhook(subscription_id: uuid.UUID) -> Response:
    return _one(_find(subscription_id))


@tenant_api.patch("/webhooks/<uuid:subscription_id>")
@requires("webhooks:manage")
def patch_webhook(subscription_id: uuid.UUID) -> Response:
    """JSON Merge Patch (RFC 7396) of url, event_types and active; the result is checked as a new one."""
    subscription = _find(subscription_id)
    current = {"url": subscription.url, "event_types": subscription.event_types, "active": subscription.active}
    change(session(), subscription, patched(current, version_etag(subscription.version)), egress(),
           actor=principal().actor)
    return _one(subscription)


@tenant_api.delete("/webhooks/<uuid:subscription_id>")
@requires("webhooks:manage")
def delete_webhook(subscription_id: uuid.UUID) -> Response:
    unsubscribe(session(), _find(subscription_id), actor=principal().actor)
    return Response(status=204)


@tenant_api.post("/webhooks/<uuid:subscription_id>/secret")
@requires("webhooks:manage")
def rotate_webhook_secret(subscription_id: uuid.UUID) -> Response:
    """A new secret, shown once; the previous one keeps signing beside it for 24 hours."""
    subscription = _find(subscription_id)
    secret = rotate(session(), subscription, sealer(), datetime.now(UTC), actor=principal().actor)
    return _one(subscription, 200, secret)


def _delivery_view(delivery: Delivery, attempts: list[Attempt]) -> dict[str, Any]:
    return {"id": str(delivery.id), "webhook_id": f"msg_{delivery.id.hex}", "event": str(delivery.event_id),
            "type": delivery.event_type, "status": delivery.status, "attempts": [
                {"at": a.at.isoformat(), "status": a.status_code, "error": a.error, "latency_ms": a.latency_ms}
                for a in attempts],
            "next_attempt_at": delivery.next_attempt_at.isoformat() if delivery.status == "pending" else None,
            "created_at": delivery.created_at.isoformat(),
            "delivered_at": delivery.delivered_at.isoformat() if delivery.delivered_at else None}


@tenant_api.get("/webhooks/<uuid:subscription_id>/deliveries")
@requires("webhooks:manage")
def webhook_deliveries(subscription_id: uuid.UUID) -> Response:
    """The delivery log, newest first: every attempt with its status and latency."""
    subscription = _find(subscription_id)
    limit, after = page_params()
    rows = delivery_log(session(), subscription, id_cursor(after), limit + 1)
    return paged([_delivery_view(d, a) for d, a in rows], limit, key="id")


@tenant_api.post("/webhooks/<uuid:subscription_id>/replay")
@requires("webhooks:manage")
def replay_webhook(subscription_id: uuid.UUID) -> Response:
    """Deliver one event again, or every event of a time range (at most 31 days)."""
    subscription = _find(subscription_id)
    data = json_body(ReplayInput)
    queued = replay(session(), subscription, tenant_api_url(), data.get("event"), data.get("since"),
                    data.get("until"), datetime.now(UTC))
    response = jsonify(queued=queued)
    response.status_code = 202
    return response
