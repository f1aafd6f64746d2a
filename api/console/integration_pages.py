"""The municipality's OAuth clients (a secret is shown once, on the page that made it) and its
webhooks with their delivery log and replay, through the same operations as the clients and
webhooks APIs."""

import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Response, g, request, url_for

from api.console.routes import console, refused
from api.console.web import console_page, page, see_other, text
from api.database import session
from api.principal import principal
from api.tenant_api import tenant_api_url
from api.webhooks.routes import egress, sealer
from townhall.auth.console_client import console_client_id, is_console_client
from townhall.auth.models import ClientStatus, OAuthClient
from townhall.auth.operations import create_client, rotate_client_secret, set_client_status
from townhall.auth.queries import client_by_id, clients_of_tenant
from townhall.auth.schemas import GRANT_TYPES
from townhall.auth.scopes import SCOPES
from townhall.errors import NotFound, StaleVersion, TownhallError
from townhall.outbox.models import Subscription
from townhall.outbox.operations import replay, subscribe
from townhall.outbox.queries import delivery_log, subscription_of, subscriptions_of
from townhall.outbox.schemas import EVENT_TYPES

SHOWN = 200
DELIVERIES_SHOWN = 50


def _clients_page(status: int = 200, errors: dict[str, list[str]] | None = None, **values: Any) -> Response:
    return page("clients.html", status=status, section="clients", errors=errors, grant_types=GRANT_TYPES,
                console_client=console_client_id(g.tenant.slug),
                all_scopes=sorted(SCOPES), clients=clients_of_tenant(session(), g.tenant.id, limit=SHOWN), **values)


@console.get("/clients")
@console_page("clients:manage")
def clients() -> Response:
    return _clients_page()


def _client_form() -> dict[str, Any]:
    form = request.form
    return {"name": form.get("name", "").strip(), "kind": form.get("kind", ""),
            "grant_types": form.getlist("grant_types"), "scopes": form.getlist("scopes"),
            "redirect_uris": [line.strip() for line in form.get("redirect_uris", "").splitlines() if line.strip()]}


@console.post("/clients")
@console_page("clients:manage")
def register_client() -> Response:
    """A new client; a confidential one's secret is on this answer only (stored hashed)."""
    data = _client_form()
    try:
        with session().begin_nested():
            client, secret = create_client(session(), g.tenant.id, g.tenant.slug, data, actor=principal().actor)
    except TownhallError as error:
        return _clients_page(422, refused(error), typed=data)
    return _clients_page(201, created=client.client_id, secret=secret)


def _client(client_id: str) -> OAuthClient:
    client = client_by_id(session(), client_id[:120])
    if client is None or client.tenant_id != g.tenant.id:
        raise NotFound("No such client in this municipality.")
    return client


def _seen(client: OAuthClient) -> None:
    raw = request.form.get("version", "")
    if not (raw.isdigit() and int(raw) == client.version):
        raise StaleVersion("The client changed since you read it.")


@console.post("/clients/<client_id:client_id>/secret")
@console_page("clients:manage")
def rotate_secret(client_id: str) -> Response:
    client = _client(client_id)
    try:
        _seen(client)
        with session().begin_nested():
            secret = rotate_client_secret(session(), client, actor=principal().actor)
    except StaleVersion:
        return _clients_page(409, {"": [text()["stale"]]})
    except TownhallError as error:
        return _clients_page(422, refused(error))
    return _clients_page(created=client.client_id, secret=secret)


@console.post("/clients/<client_id:client_id>/status")
@console_page("clients:manage")
def client_status(client_id: str) -> Response:
    client = _client(client_id)
    wanted = ClientStatus.DISABLED if request.form.get("status") == "disabled" else ClientStatus.ACTIVE
    if is_console_client(client.client_id, g.tenant.slug):
        return _clients_page(422, {"": [text()["console_client"]]})  # nobody could sign in to disable it back
    try:
        _seen(client)
        with session().begin_nested():
            set_client_status(session(), client, wanted, actor=principal().actor)
    except StaleVersion:
        return _clients_page(409, {"": [text()["stale"]]})
    return see_other(url_for("console.clients", done="saved"))


def _webhooks_page(status: int = 200, errors: dict[str, list[str]] | None = None, **values: Any) -> Response:
    return page("webhooks.html", status=status, section="webhooks", errors=errors, event_types=EVENT_TYPES,
                subscriptions=subscriptions_of(session(), g.tenant.id), **values)


@console.get("/webhooks")
@console_page("webhooks:manage")
def webhooks() -> Response:
    return _webhooks_page()


@console.post("/webhooks")
@console_page("webhooks:manage")
def create_webhook() -> Response:
    """A new subscription; its signing secret is on this answer only."""
    data = {"url": request.form.get("url", "").strip(), "event_types": request.form.getlist("event_types")}
    try:
        with session().begin_nested():
            subscription, secret = subscribe(session(), g.tenant.id, data, sealer(), principal().actor, egress())
    except TownhallError as error:
        return _webhooks_page(422, refused(error), typed=data)
    return _webhooks_page(201, created=str(subscription.id), secret=secret)


def _subscription(subscription_id: uuid.UUID) -> Subscription:
    found = subscription_of(session(), g.tenant.id, subscription_id)
    if found is None:
        raise NotFound("No such webhook subscription here.")
    return found


def _webhook_page(subscription: Subscription, status: int = 200, errors: dict[str, list[str]] | None = None,
                  **values: Any) -> Response:
    return page("webhook.html", status=status, section="webhooks", subscription=subscription, errors=errors,
                deliveries=delivery_log(session(), subscription, None, DELIVERIES_SHOWN), **values)


@console.get("/webhooks/<uuid:subscription_id>")
@console_page("webhooks:manage")
def webhook(subscription_id: uuid.UUID) -> Response:
    return _webhook_page(_subscription(subscription_id))


@console.post("/webhooks/<uuid:subscription_id>/replay")
@console_page("webhooks:manage")
def replay_webhook(subscription_id: uuid.UUID) -> Response:
    """Deliver one event of the log again."""
    subscription = _subscription(subscription_id)
    try:
        event = uuid.UUID(request.form.get("event", ""))
    except ValueError:
        return _webhook_page(subscription, 422, {"": [text()["not_found"]]})
    try:
        with session().begin_nested():
            queued = replay(session(), subscription, tenant_api_url(), event, None, None, datetime.now(UTC))
    except TownhallError as error:
        return _webhook_page(subscription, 422, refused(error))
    return _webhook_page(subscription, replayed=queued)
