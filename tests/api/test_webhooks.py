"""Signed webhooks for IT partners against a real HTTP receiver: Standard Webhooks signatures,
retries until every event arrives, the delivery log, replay, rotation and SSRF refusals."""

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from standardwebhooks import Webhook

from api.cli import cli
from api.database import database
from api.settings import Settings, SettingsError
from api.worker import Worker
from support.contract import assert_problem, document, schema_errors
from support.evidence import eid_form
from support.oauth import bearer, data, register, token
from support.receiver import Receiver, free_port, tls_for
from tenants.models import Tenant
from tenants.queries import require_tenant
from townhall.auth.operations import create_user
from townhall.outbox import delivery
from townhall.services.operations import configure_service
from townhall.tenancy import tenant_scope

EID = {"service": "eid-card", "form": eid_form(), "citizen": "jan@example.org"}


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
    assert all(set(e) == {"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "data"}
               for e in events)
    assert sorted(e["data"]["reference"] for e in events) == sorted(c["reference"] for c in cases)
    assert {(e["specversion"], e["type"], e["source"], e["datacontenttype"]) for e in events} == {
        ("1.0", "case.created", "https://townhall.test/t/aalst/v1", "application/json")}
    # Structured mode as a CloudEvents receiver sees it: the media type, then the SDK's reading.
    assert {r.headers["content-type"] for r in receiver.requests} == {"application/cloudevents+json; charset=utf-8"}
    assert list(document()["webhooks"]["event"]["post"]["requestBody"]["content"]) == ["application/cloudevents+json"]
    assert all(schema_errors("#/components/schemas/CloudEvent", e) == [] for e in events)  # as the contract says
    for request, sent in zip(receiver.requests, events, strict=True):
        read = request.event
        assert read is not None  # the receiver recognised it (415 otherwise)
        assert (read.get_specversion(), read.get_id(), read.get_source(), read.get_type(), read.get_subject(),
                read.get_datacontenttype(), read.get_data()) == (
            "1.0", sent["id"], sent["source"], "case.created", sent["data"]["case"], "application/json", sent["data"])
        assert read.get_time() == datetime.fromisoformat(sent["time"])  # aware: a naive moment never equals it
    forged = dict(receiver.requests[0].headers) | {"webhook-signature": "v1,AAAA"}
    with pytest.raises(Exception, match="signature"):
        verifier.verify(receiver.requests[0].body, forged)
    log = data(client.get(f"/t/aalst/v1/webhooks/{subscription['id']}/deliveries", headers=partner))["items"]
    assert [d["status"] for d in log] == ["delivered"] * 3 and all(d["attempts"][0]["status"] == 204 for d in log)


def test_every_event_arrives_through_downtime_and_flaky_answers(
    app: Flask, client: FlaskClient, partner: dict[str, str], receiver: Receiver, private_ok: None
) -> None:
    port = free_port()
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


def _run(app: Flask, now: datetime | None = None, **settings: object) -> None:
    done = Worker(replace(app.config["TOWNHALL_SETTINGS"], worker_threads=2, **settings),
                  app.extensions["townhall.database"])
    try:
        done.run_once(now)
    finally:
        done.close()


def _log(client: FlaskClient, partner: dict[str, str], subscription: dict[str, str]) -> list[dict[str, object]]:
    return list(data(client.get(f"/t/aalst/v1/webhooks/{subscription['id']}/deliveries", headers=partner))["items"])


def test_only_the_chosen_event_types_of_active_subscriptions_are_sent(
    app: Flask, client: FlaskClient, partner: dict[str, str], receiver: Receiver, private_ok: None
) -> None:
    url = receiver.start()
    wanted = subscribe(client, partner, url, event_types=["case.created"])
    other = subscribe(client, partner, url, event_types=["appointment.booked"])
    paused = subscribe(client, partner, url)
    etag = client.get(f"/t/aalst/v1/webhooks/{paused['id']}", headers=partner).headers["ETag"]
    switched = client.patch(f"/t/aalst/v1/webhooks/{paused['id']}", json={"active": False},
                            headers=partner | {"If-Match": etag})
    assert data(switched)["active"] is False
    client.post("/t/aalst/v1/cases", json=EID, headers=partner)
    _run(app, webhooks_allow_private=True)
    assert len(receiver.requests) == 1 and len(_log(client, partner, wanted)) == 1
    assert _log(client, partner, other) == [] and _log(client, partner, paused) == []


def test_a_slow_endpoint_times_out_and_a_long_answer_is_not_read(
    app: Flask, client: FlaskClient, partner: dict[str, str], receiver: Receiver, private_ok: None,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "TIMEOUT_SECONDS", 0.5)
    receiver.mode = "slow"
    slow = subscribe(client, partner, receiver.start())
    client.post("/t/aalst/v1/cases", json=EID, headers=partner)
    _run(app, webhooks_allow_private=True)
    [attempted] = _log(client, partner, slow)
    assert attempted["status"] == "pending" and attempted["attempts"][0]["error"] == "ReadTimeout"  # type: ignore[index]
    client.delete(f"/t/aalst/v1/webhooks/{slow['id']}", headers=partner)

    endless = Receiver(mode="endless")
    try:
        long = subscribe(client, partner, endless.start())
        client.post("/t/aalst/v1/cases", json=EID, headers=partner)
        monkeypatch.setattr(delivery, "TIMEOUT_SECONDS", 10.0)
        started = time.monotonic()
        _run(app, webhooks_allow_private=True)
        assert time.monotonic() - started < 1.5  # 64 KiB read, not the promised gigabyte (2 s to trickle 640 KiB)
        assert [d["status"] for d in _log(client, partner, long)] == ["delivered"]
    finally:
        endless.stop()


def test_retries_back_off_exponentially_with_jitter_and_stop_after_a_day() -> None:
    randomness = random.Random(1)  # noqa: S311
    waits = [delivery.backoff(n, randomness).total_seconds() for n in range(1, 12)]
    for attempt, wait in enumerate(waits, start=1):
        base = min(5 * 2 ** (attempt - 1), 3600)
        assert base * 0.5 <= wait <= base * 1.5
    assert len({round(w / min(5 * 2 ** n, 3600), 3) for n, w in enumerate(waits)}) > 1  # jitter, not a fixed factor
    assert timedelta(hours=24) == delivery.GIVE_UP_AFTER


def test_a_time_range_is_replayed(
    app: Flask, client: FlaskClient, partner: dict[str, str], receiver: Receiver, private_ok: None
) -> None:
    subscription = subscribe(client, partner, receiver.start())
    for _ in range(3):
        client.post("/t/aalst/v1/cases", json=EID, headers=partner)
    _run(app, webhooks_allow_private=True)
    now = datetime.now(UTC)
    body = {"from": (now - timedelta(hours=1)).isoformat(), "to": (now + timedelta(minutes=1)).isoformat()}
    replayed = client.post(f"/t/aalst/v1/webhooks/{subscription['id']}/replay", json=body, headers=partner)
    assert replayed.status_code == 202 and data(replayed) == {"queued": 3}
    _run(app, webhooks_allow_private=True)
    assert len(receiver.requests) == 6
    assert len({json.loads(r.body)["id"] for r in receiver.requests}) == 3  # the same three events, again


def test_the_address_is_checked_again_when_delivering(
    app: Flask, client: FlaskClient, partner: dict[str, str], receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    allow_private(app, monkeypatch)
    subscription = subscribe(client, partner, receiver.start())  # allowed when saved
    client.post("/t/aalst/v1/cases", json=EID, headers=partner)
    _run(app, webhooks_allow_private=False)  # the operator has since forbidden private addresses
    [attempted] = _log(client, partner, subscription)
    assert attempted["attempts"][0]["error"] == "A webhook URL is https."  # type: ignore[index]
    assert receiver.requests == []


def test_the_worker_command_runs_once_or_until_sigterm(app: Flask, settings: Settings) -> None:
    once = app.test_cli_runner().invoke(cli, ["worker", "--once"])
    assert once.exit_code == 0 and "nothing to do" in once.output
    environment = {**os.environ, "TOWNHALL_DATABASE_URL": settings.database_url,
                   "TOWNHALL_MIGRATION_DATABASE_URL": settings.migration_database_url,
                   "TOWNHALL_INSTANCE_PATH": str(settings.instance_path)}
    with subprocess.Popen([str(Path(sys.executable).parent / "townhall"), "worker"], env=environment,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        try:
            assert process.stdout is not None
            assert "delivering outbox events" in process.stdout.readline()
            time.sleep(0.5)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=15) == 0  # the round in hand finishes, then it stops cleanly
        finally:
            process.kill()


PUBLIC = "93.184.216.34"  # a public address, named by number: nothing is looked up, nothing is called here


def test_a_webhook_url_names_port_443_or_one_the_operator_allows(
    app: Flask, client: FlaskClient, partner: dict[str, str], receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    for url in (f"https://{PUBLIC}:22/hook", f"https://{PUBLIC}:8443/hook", f"https://{PUBLIC}:80/hook",
                f"https://{PUBLIC}:6379/"):
        refused = client.post("/t/aalst/v1/webhooks", json={"url": url}, headers=partner)
        assert "port" in assert_problem(refused, 422)["errors"]["url"][0], url
    assert data(client.get("/t/aalst/v1/webhooks", headers=partner))["items"] == []  # nothing saved
    default = subscribe(client, partner, f"https://{PUBLIC}/hook")
    subscribe(client, partner, f"https://{PUBLIC}:443/hook")
    url = f"/t/aalst/v1/webhooks/{default['id']}"
    moved = client.patch(url, json={"url": f"https://{PUBLIC}:22/hook"},
                         headers=partner | {"If-Match": client.get(url, headers=partner).headers["ETag"]})
    assert "url" in assert_problem(moved, 422)["errors"]
    assert data(client.get(url, headers=partner))["url"] == f"https://{PUBLIC}/hook"  # unchanged

    monkeypatch.setitem(app.config, "TOWNHALL_SETTINGS",
                        replace(app.config["TOWNHALL_SETTINGS"], webhooks_allowed_ports=(8443,)))
    allowed = subscribe(client, partner, f"https://{PUBLIC}:8443/hook", event_types=["case.created"])
    assert_problem(client.post("/t/aalst/v1/webhooks", json={"url": f"https://{PUBLIC}:22/"}, headers=partner), 422)
    for other in data(client.get("/t/aalst/v1/webhooks", headers=partner))["items"]:
        if other["id"] != allowed["id"]:
            client.delete(f"/t/aalst/v1/webhooks/{other['id']}", headers=partner)
    client.post("/t/aalst/v1/cases", json=EID, headers=partner)
    _run(app, webhooks_allowed_ports=())  # the operator has since taken 8443 off the list: refused, nothing called
    [attempted] = _log(client, partner, allowed)
    assert attempted["attempts"][0]["error"] == "A webhook URL uses port 443, not 8443."  # type: ignore[index]


def test_the_allowed_ports_are_a_short_list_of_port_numbers(settings: Settings) -> None:
    base = {"TOWNHALL_DATABASE_URL": settings.database_url, "TOWNHALL_HOME": str(settings.home)}
    assert Settings.from_env(base).webhooks_allowed_ports == ()
    assert Settings.from_env(base | {"TOWNHALL_WEBHOOKS_ALLOWED_PORTS": "9443, 8443,8443"}).webhooks_allowed_ports \
        == (8443, 9443)
    for wrong in ("https", "8443;9443", "-1", "70000", "0", ",".join(str(p) for p in range(8000, 8017))):
        with pytest.raises(SettingsError, match="TOWNHALL_WEBHOOKS_ALLOWED_PORTS"):
            Settings.from_env(base | {"TOWNHALL_WEBHOOKS_ALLOWED_PORTS": wrong})


def resolving(monkeypatch: pytest.MonkeyPatch, name: str, answers: list[str]) -> list[str]:
    """The system's resolver, except for `name`: each lookup answers the next of `answers` (the last
    one ever after), as a name under an attacker's control may. Returns the lookups' answers."""
    real, asked = socket.getaddrinfo, list[str]()

    def getaddrinfo(host: str, port: object, *args: Any, **kwargs: Any) -> Any:
        if host != name:
            return real(host, port, *args, **kwargs)  # type: ignore[arg-type]
        asked.append(answers[min(len(asked), len(answers) - 1)])
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (asked[-1], int(str(port))))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def test_the_connection_goes_to_the_address_that_was_checked(
    app: Flask, client: FlaskClient, partner: dict[str, str], private_ok: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    port, checked, elsewhere = free_port(), Receiver(), Receiver()
    try:
        checked.start(port, "127.0.0.2")
        elsewhere.start(port, "127.0.0.1")  # where the name points by the time a second lookup would be made
        asked = resolving(monkeypatch, "hooks.partner.test", ["127.0.0.2", "127.0.0.2", "127.0.0.1"])
        subscription = subscribe(client, partner, f"http://hooks.partner.test:{port}/hook")
        client.post("/t/aalst/v1/cases", json=EID, headers=partner)
        _run(app, webhooks_allow_private=True)
    finally:
        checked.stop()
        elsewhere.stop()
    assert [d["status"] for d in _log(client, partner, subscription)] == ["delivered"]
    assert elsewhere.requests == [] and len(checked.requests) == 1
    assert checked.requests[0].headers["host"] == f"hooks.partner.test:{port}"  # the name, not the address
    assert asked == ["127.0.0.2", "127.0.0.2"]  # when saved, and once when delivering: never again to connect


def test_tls_is_for_the_name_though_the_connection_goes_to_the_checked_address(
    app: Flask, client: FlaskClient, partner: dict[str, str], private_ok: None, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path
) -> None:
    context, authority = tls_for(tmp_path, "hooks.partner.test")
    secure = Receiver(tls=context)
    try:
        port = int(secure.start().rsplit(":", 1)[1].split("/")[0])
        resolving(monkeypatch, "hooks.partner.test", ["127.0.0.1"])
        resolving(monkeypatch, "wrong.partner.test", ["127.0.0.1"])  # the same server, not its certificate's name
        right = subscribe(client, partner, f"https://hooks.partner.test:{port}/hook")
        wrong = subscribe(client, partner, f"https://wrong.partner.test:{port}/hook")
        client.post("/t/aalst/v1/cases", json=EID, headers=partner)
        done = worker(app)
        done.http.verify = str(authority)  # trust the test authority, as a system's CA bundle would be trusted
        try:
            done.run_once()
        finally:
            done.close()
    finally:
        secure.stop()
    assert [d["status"] for d in _log(client, partner, right)] == ["delivered"]
    [refused] = _log(client, partner, wrong)
    assert refused["status"] == "pending" and refused["attempts"][0]["error"] == "SSLError"  # type: ignore[index]
    assert "hooks.partner.test" in secure.server_names and "wrong.partner.test" in secure.server_names  # SNI
    assert [r.headers["host"] for r in secure.requests] == [f"hooks.partner.test:{port}"]


def test_case_created_tells_the_status_the_api_answers(
    app: Flask, client: FlaskClient, partner: dict[str, str], receiver: Receiver, private_ok: None
) -> None:
    """A certificate is issued in the transaction that opens it: its `case.created` says `issued`,
    as the answer does, on both ways a case is written (one statement on PostgreSQL, Core INSERTs on
    SQLite); a case that waits for staff says its first status."""
    with app.app_context(), database().unit_of_work() as session:
        tenant = require_tenant(session, "aalst")
        with tenant_scope(session, tenant.id):
            configure_service(session, tenant.id, "certificate", {})
    subscribe(client, partner, receiver.start(), event_types=["case.created"])
    answered = {case["id"]: case["status"] for case in (
        data(client.post("/t/aalst/v1/cases", json=body | {"citizen": "jan@example.org"}, headers=partner))
        for body in ({"service": "certificate", "form": {"kind": "residence"}}, EID))}
    assert sorted(answered.values()) == ["issued", "submitted"]
    _run(app, webhooks_allow_private=True)
    told = {}
    for request in receiver.requests:
        assert request.event is not None
        event_data = request.event.get_data()
        assert isinstance(event_data, dict)
        told[event_data["case"]] = event_data["status"]
    assert told == answered
    for case_id, status in answered.items():  # and what a later read answers
        assert data(client.get(f"/t/aalst/v1/cases/{case_id}", headers=partner))["status"] == status
