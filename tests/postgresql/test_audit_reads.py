"""On PostgreSQL a read's audit entry is appended beside the request, in batches (the default,
townhall.audit.read_log): until the batch is appended the trail holds the changes only; then one
entry per read, in the order of the reads, with the time of each read, and the chain verifies."""

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from flask import Flask

from api.database import database
from api.settings import Settings
from support.evidence import eid_form
from support.oauth import bearer, data, register, token
from support.suite import empty_all_tables
from tenants.models import Tenant
from townhall.audit.queries import verify
from townhall.audit.read_log import ReadLog
from townhall.auth.operations import create_user
from townhall.services.operations import configure_service
from townhall.tenancy import tenant_scope

pytestmark = [pytest.mark.postgresql, pytest.mark.committed, pytest.mark.usefixtures("signing_key")]


@pytest.fixture
def deferred(settings: Settings, make_app: Callable[[Settings], Flask]) -> Iterator[Flask]:
    """The app as deployed on PostgreSQL: reads' entries wait in the process (a minute here: this
    test appends them itself)."""
    yield make_app(replace(settings, audit_reads_seconds=60))
    empty_all_tables(settings)


def test_reads_are_appended_in_a_batch_in_their_order_with_their_time(
    deferred: Flask, app: Flask, make_tenant: Callable[..., Tenant]
) -> None:
    tenant = make_tenant("aalst", "41002")
    with app.app_context(), database().unit_of_work() as session:
        create_user(session, {"email": "jan@example.org", "display_name": "Jan"})
        with tenant_scope(session, tenant.id):
            configure_service(session, tenant.id, "eid-card", {})
    client = deferred.test_client()
    partner = bearer(token(client, register(app, tenant, ["audit:read", "cases:read", "cases:write"])))
    case = data(client.post("/t/aalst/v1/cases", json={"service": "eid-card", "form": eid_form(),
                                                        "citizen": "jan@example.org"}, headers=partner))
    started = datetime.now(UTC)
    paths = [f"/t/aalst/v1/cases/{case['id']}", f"/t/aalst/v1/cases/{case['id']}/messages"]
    for path in paths:
        assert client.get(path, headers=partner).status_code == 200
    log: ReadLog = deferred.extensions["townhall.read_log"]

    assert [e["action"] for e in data(client.get("/t/aalst/v1/audit", headers=partner))["items"]] == [
        "POST /t/<slug:tenant>/v1/cases"]  # the change committed with its entry; the reads wait
    read_back = datetime.now(UTC)
    assert log.flush() == 2
    assert log.flush() == 0  # each read once

    entries = data(client.get("/t/aalst/v1/audit", headers=partner))["items"]
    reads = entries[1:3]
    assert [e["seq"] for e in entries] == [1, 2, 3]  # reading the trail is no read of a person
    assert [e["object"] for e in reads] == paths
    assert all(e["summary"] == {"status": 200, "read": [case["citizen_id"]]} for e in reads)
    times = [datetime.fromisoformat(e["time"]) for e in reads]
    assert started <= times[0] <= times[1] <= read_back  # when they were read, not when appended
    with deferred.app_context(), database().sessions() as session, tenant_scope(session, tenant.id):
        verdict = verify(session, tenant.id)
    assert (verdict.entries, verdict.broken_at) == (3, None)
