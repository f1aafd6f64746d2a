"""A one-counter slot under a hundred simultaneous bookings: exactly one gets it, on SQLite and on
PostgreSQL (the seat's primary key decides, ADR 0007)."""

import pytest
from flask import Flask

from api.database import database
from support.concurrency import in_parallel
from support.oauth import partner_client, partner_headers
from tenants.operations import create_tenant
from townhall.appointments.operations import save_office
from townhall.appointments.schemas import OfficeInput
from townhall.auth.keys import ensure_signing_key
from townhall.auth.operations import create_user
from townhall.services.operations import configure_service
from townhall.tenancy import tenant_scope
from townhall.validation import load

pytestmark = [pytest.mark.committed]
PEOPLE = 100


def test_of_a_hundred_bookings_of_a_one_counter_slot_exactly_one_succeeds(live_app: Flask) -> None:
    with live_app.app_context(), database().unit_of_work() as session:
        tenant = create_tenant(session, {"slug": "aalst", "nis_code": "41002", "default_language": "nl",
                                         "languages": ["nl"], "names": {"nl": "Aalst"}}, "test")
        ensure_signing_key(session, live_app.config["TOWNHALL_SETTINGS"].access_token_lifetime)
        for number in range(PEOPLE):
            create_user(session, {"email": f"person{number}@example.org", "display_name": f"Person {number}"})
        with tenant_scope(session, tenant.id):
            configure_service(session, tenant.id, "eid-card", {})
            office = save_office(session, tenant.id, tenant.time_zone, load(OfficeInput, {
                "name": "Stadhuis", "address": "Grote Markt 3, Aalst", "lat": 50.94, "long": 4.04,
                "hours": {"mon": [["09:00", "10:00"]]},
                "services": [{"service": "eid-card", "duration_minutes": 30, "counters": 1, "lead_minutes": 0,
                              "horizon_days": 366}]}), {})
            office_id = str(office.id)
            client_id, secret = partner_client(session, tenant, ["appointments:read", "appointments:write"])
    partner = partner_headers(live_app, client_id, secret)
    numbers = iter(range(PEOPLE))

    def book() -> int:
        body = {"service": "eid-card", "office": office_id, "start": "2027-03-01T09:00:00+01:00",
                "citizen": f"person{next(numbers)}@example.org"}
        return live_app.test_client().post("/t/aalst/v1/appointments", json=body, headers=partner).status_code

    statuses = in_parallel(PEOPLE, book)
    assert statuses.count(201) == 1
    assert statuses.count(409) == PEOPLE - 1
