"""Webhook delivery on PostgreSQL under stress: two workers share the outbox without sending an event
twice, and a database restart in the middle of delivery loses nothing."""

import os
import shutil
import subprocess
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask

from api.database import database
from api.worker import Worker
from support.evidence import eid_form
from support.oauth import basic
from support.receiver import Receiver
from tenants.operations import create_tenant
from townhall.auth.keys import ensure_signing_key
from townhall.auth.operations import create_client, create_user
from townhall.outbox.operations import subscribe
from townhall.outbox.secrets import Sealer
from townhall.outbox.ssrf import Policy
from townhall.services.operations import configure_service
from townhall.tenancy import tenant_scope

pytestmark = [pytest.mark.postgresql, pytest.mark.committed]
EID = {"service": "eid-card", "form": eid_form(), "citizen": "jan@example.org"}


def _setup(app: Flask, url: str) -> dict[str, str]:
    settings = app.config["TOWNHALL_SETTINGS"]
    with app.app_context(), database().unit_of_work() as session:
        tenant = create_tenant(session, {"slug": "aalst", "nis_code": "41002", "default_language": "nl",
                                         "languages": ["nl"], "names": {"nl": "Aalst"}}, "test")
        ensure_signing_key(session, settings.access_token_lifetime)
        create_user(session, {"email": "jan@example.org", "display_name": "Jan"})
        with tenant_scope(session, tenant.id):
            configure_service(session, tenant.id, "eid-card", {})
            subscribe(session, tenant.id, {"url": url}, Sealer(settings.session_secret()), "test",
                      Policy(allow_private=True))
            client, secret = create_client(session, tenant.id, tenant.slug, {
                "name": "Partner", "kind": "confidential", "grant_types": ["client_credentials"],
                "scopes": ["cases:write"]})
            client_id = client.client_id
    answer = app.test_client().post("/oauth/token", data={"grant_type": "client_credentials"},
                                    headers=basic(client_id, secret))
    assert answer.json is not None
    return {"Authorization": f"Bearer {answer.json['access_token']}"}


def _worker(app: Flask) -> Worker:
    settings = replace(app.config["TOWNHALL_SETTINGS"], webhooks_allow_private=True, worker_threads=8)
    return Worker(settings, app.extensions["townhall.database"])


def test_two_workers_never_deliver_an_event_twice(live_app: Flask) -> None:
    receiver = Receiver()
    partner = _setup(live_app, receiver.start())
    for _ in range(120):
        assert live_app.test_client().post("/t/aalst/v1/cases", json=EID, headers=partner).status_code == 201
    workers = [_worker(live_app), _worker(live_app)]
    try:
        for _ in range(4):  # a few rounds side by side
            threads = [threading.Thread(target=w.run_once) for w in workers]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
    finally:
        for worker in workers:
            worker.close()
        receiver.stop()
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(ids) == 120 and len(set(ids)) == 120


def _restart_postgresql() -> None:
    clusters = sorted(Path("/etc/postgresql").glob("*/main"))
    command = shutil.which("pg_ctlcluster") or "pg_ctlcluster"
    subprocess.run([command, "--skip-systemctl-redirect", clusters[-1].parent.name, "main", "restart"],
                   check=True, capture_output=True, timeout=120)


@pytest.mark.skipif(shutil.which("pg_ctlcluster") is None or os.geteuid() != 0 or "TOWNHALL_TEST_POSTGRES_URL"
                    in os.environ, reason="needs the local PostgreSQL cluster and root to restart it (CI has both)")
def test_a_database_restart_during_delivery_loses_nothing(live_app: Flask) -> None:
    receiver = Receiver()
    partner = _setup(live_app, receiver.start())
    for _ in range(60):
        live_app.test_client().post("/t/aalst/v1/cases", json=EID, headers=partner)
    worker = _worker(live_app)
    running = threading.Thread(target=worker.run_forever, kwargs={"idle_seconds": 0.2})
    running.start()
    try:
        _restart_postgresql()
        for _ in range(10):  # then more events while the worker finds its feet
            live_app.test_client().post("/t/aalst/v1/cases", json=EID, headers=partner)
        deadline = time.monotonic() + 60
        while len({r.headers["webhook-id"] for r in receiver.requests}) < 70 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        worker.stopping.set()
        running.join(timeout=30)
        worker.close()
        receiver.stop()
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 70
