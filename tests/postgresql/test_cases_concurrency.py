"""Cases under concurrency on PostgreSQL: references stay unique, one of many racing steps wins."""

import pytest
from flask import Flask

from api.database import database
from support.concurrency import in_parallel
from support.evidence import eid_form
from support.oauth import partner_client, partner_headers
from tenants.operations import create_tenant
from townhall.auth.keys import ensure_signing_key
from townhall.auth.operations import create_user
from townhall.services.operations import configure_service
from townhall.tenancy import tenant_scope

pytestmark = [pytest.mark.postgresql, pytest.mark.committed]
EID = {"service": "eid-card", "form": eid_form(), "citizen": "jan@example.org"}


@pytest.fixture
def partner(live_app: Flask) -> dict[str, str]:
    with live_app.app_context(), database().unit_of_work() as session:
        tenant = create_tenant(session, {"slug": "aalst", "nis_code": "41002", "default_language": "nl",
                                         "languages": ["nl"], "names": {"nl": "Aalst"}}, "test")
        ensure_signing_key(session, live_app.config["TOWNHALL_SETTINGS"].access_token_lifetime)
        create_user(session, {"email": "jan@example.org", "display_name": "Jan"})
        with tenant_scope(session, tenant.id):
            configure_service(session, tenant.id, "eid-card", {})
            client_id, secret = partner_client(session, tenant, ["cases:read", "cases:write"])
    return partner_headers(live_app, client_id, secret)


def test_parallel_creations_get_distinct_references(live_app: Flask, partner: dict[str, str]) -> None:
    def create() -> tuple[int, str | None]:
        response = live_app.test_client().post("/t/aalst/v1/cases", json=EID, headers=partner)
        return response.status_code, (response.json or {}).get("reference")

    results = in_parallel(100, create)
    assert [status for status, _ in results] == [201] * 100
    references = [reference for _, reference in results]
    assert len(set(references)) == 100


def test_of_many_racing_steps_with_one_etag_exactly_one_wins(live_app: Flask, partner: dict[str, str]) -> None:
    created = live_app.test_client().post("/t/aalst/v1/cases", json=EID, headers=partner)
    url, etag = created.headers["Location"] + "/transitions", created.headers["ETag"]

    def move() -> int:
        step = live_app.test_client().post(url, json={"to": "fee_due"}, headers=partner | {"If-Match": etag})
        return step.status_code

    statuses = in_parallel(50, move)
    assert statuses.count(200) == 1
    assert statuses.count(412) == 49
