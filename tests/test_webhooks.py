"""Signed webhooks for IT partners against a real HTTP receiver: Standard Webhooks signatures,
retries until every event arrives, the delivery log, replay, rotation and SSRF refusals."""

import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from standardwebhooks import Webhook

from api.database import database
from api.settings import Settings
from api.worker import Worker
from contract import assert_problem
from oauth_support import bearer, data, register, signing_key, token
from receiver import Receiver
from tenants.models import Tenant
from townhall.auth.operations import create_user
from townhall.services.operations import configure_service
from townhall.tenancy import tenant_scope

__all__ = ["signing_key"]
EID = {"service": "eid-card", "form": {"reason": "renewal"}, "citizen": "jan@example.org"}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.stop()


@pytest.fixture
def partner(app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant], signing_key: None) -> dict[str, str]:
    tenant = make_tenant("aalst", "41002")
    with app.app_context(), database().unit_of_work() as session:
        create_user(session, {"email": "jan@example.org", "display_name": "Jan"})
        with tenant_scope(session, tenant.id):
            configure_service(session, tenant.id, "eid-card", {})
    return bearer(token(client, register(app, tenant, ["webhooks:manage", "cases:read", "cases:write"])))


def worker(app: Flask) -> Worker:
    settings: Settings = app.config["TOWNHALL_SETTINGS"]
    return Worker(replace(settings, webhooks_allow_private=True, worker_threads=4), app.extensions["townhall.database"])


def allow_private(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The receiver listens on loopback, which only an operator's setting allows (restored after)."""
    monkeypatch.setitem(app.config, "TOWNHALL_SETTINGS",
                        replace(app.config["TOWNHALL_SETTINGS"], webhooks_allow_private=True))


@pytest.fixture
def private_ok(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    allow_private(app, monkeypatch)


def subscribe(client: FlaskClient, partner: dict[str, str], url: str, **extra: object) -> dict[str, str]:
    created = client.post("/t/aalst/v1/webhooks", json={"url": url} | extra, headers=partner)
    assert created.status_code == 201, created.get_data(as_text=True)
    return dict(data(created))


def test_events_arrive_signed_as_cloud_events(
    app: Flask, client: FlaskClient, partner: dict[str, str], receiver: Receiver, private_ok: None
) -> None:
    subscription = subscribe(client, partner, receiver.start(), event_types=["case.created"])
    assert subscription["secret"].startswith("whsec_")
    assert "secret" not in data(client.get(f"/t/aalst/v1/webhooks/{subscription['id']}", headers=partner))
    cases = [data(client.post("/t/aalst/v1/cases", json=EID, headers=partner)) for _ in range(3)]
    done = worker(app)
    try:
        assert done.run_once()["delivered"] == 3
    finally:
        done.close()
    verifier = Webhook(subscription["secret"])
    events = [verifier.verify(r.body, r.headers) for r in receiver.requests]  # raises on a bad signature
    assert sorted(e["data"]["reference"] for e in events) == sorted(c["reference"] for c in cases)
    assert {(e["specversion"], e["type"], e["source"], e["datacontenttype"]) for e in events} == {
        ("1.0", "case.created", "https://townhall.test/t/aalst/v1", "application/json")}
    forged = dict(receiver.requests[0].headers) | {"webhook-signature": "v1,AAAA"}
    with pytest.raises(Exception, match="signature"):
        verifier.verify(receiver.requests[0].body, forged)
    log = data(client.get(f"/t/aalst/v1/webhooks/{subscription['id']}/deliveries", headers=partner))["items"]
    assert [d["status"] for d in log] == ["delivered"] * 3 and all(d["attempts"][0]["status"] == 204 for d in log)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_every_event_arrives_through_downtime_and_flaky_answers(
    app: Flask, client: FlaskClient, partner: dict[str, str], receiver: Receiver, private_ok: None
) -> None:
    port = _free_port()
    subscription = subscribe(client, partner, f"http://127.0.0.1:{port}/hook")
    for _ in range(20):
        client.post("/t/aalst/v1/cases", json=EID, headers=partner)
    done = worker(app)
    try:
        first = done.run_once()
        assert first["pending"] == 20 and not first["delivered"]  # nobody listens yet
        receiver.mode = "flaky"
        receiver.start(port)
        now = datetime.now(UTC)
        for _ in range(30):  # the clock moves on; each round sends what is due
            now += timedelta(hours=1, minutes=30)
            done.run_once(now)
    finally:
        done.close()
    log = data(client.get(f"/t/aalst/v1/webhooks/{subscription['id']}/deliveries?limit=50", headers=partner))
    assert {d["status"] for d in log["items"]} == {"delivered"} and len(log["items"]) == 20
    seen = {r.headers["webhook-id"] for r in receiver.requests}
    assert seen == {d["webhook_id"] for d in log["items"]}  # each at least once
    assert any(len(d["attempts"]) > 1 for d in log["items"])


def test_rotation_signs_with_both_secrets_for_a_while_and_replay_sends_again(
    app: Flask, client: FlaskClient, partner: dict[str, str], receiver: Receiver, private_ok: None
) -> None:
    subscription = subscribe(client, partner, receiver.start())
    client.post("/t/aalst/v1/cases", json=EID, headers=partner)
    url = f"/t/aalst/v1/webhooks/{subscription['id']}"
    rotated = data(client.post(url + "/secret", headers=partner))
    assert rotated["secret"] != subscription["secret"] and rotated["previous_secret_valid_until"]
    done = worker(app)
    try:
        done.run_once()
        event_id = json.loads(receiver.requests[0].body)["id"]
        assert data(client.post(url + "/replay", json={"event": event_id}, headers=partner)) == {"queued": 1}
        done.run_once()
    finally:
        done.close()
    assert len(receiver.requests) == 2
    for old_or_new in (subscription["secret"], rotated["secret"]):
        Webhook(old_or_new).verify(receiver.requests[0].body, receiver.requests[0].headers)
    assert json.loads(receiver.requests[1].body)["id"] == event_id  # the same event, a new delivery
    assert receiver.requests[0].headers["webhook-id"] != receiver.requests[1].headers["webhook-id"]
    assert_problem(client.post(url + "/replay", json={}, headers=partner), 422)


def test_only_public_https_endpoints_and_no_redirects(
    app: Flask, client: FlaskClient, partner: dict[str, str], receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    for url in ("http://example.org/hook", "https://127.0.0.1/hook", "https://10.1.2.3/hook",
                "https://localhost/hook", "https://[::1]/hook", "https://169.254.169.254/latest"):
        refused = client.post("/t/aalst/v1/webhooks", json={"url": url}, headers=partner)
        assert "url" in assert_problem(refused, 422)["errors"], url
    receiver.mode = "redirect"
    allow_private(app, monkeypatch)  # the receiver itself is on loopback; where it redirects to is not followed
    subscription = subscribe(client, partner, receiver.start())
    client.post("/t/aalst/v1/cases", json=EID, headers=partner)
    done = worker(app)
    try:
        done.run_once()
    finally:
        done.close()
    log = data(client.get(f"/t/aalst/v1/webhooks/{subscription['id']}/deliveries", headers=partner))["items"]
    assert log[0]["status"] == "pending" and "redirects are not followed" in log[0]["attempts"][0]["error"]
    assert len(receiver.requests) == 1  # the redirect to a private address was not followed
