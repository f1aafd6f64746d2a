"""Paying a case's fee: online through Mollie (its official client against a local stand-in of its
API), at the counter, and refunds; only Mollie's own answer ever pays a case."""

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from api.chores import refund_payments
from api.database import database
from factories import Town
from support.contract import assert_problem
from support.evidence import eid_form
from support.mollie import MollieStandIn, mollie_for
from support.oauth import data
from townhall.audit.models import AuditEntry
from townhall.tenancy import tenant_scope

EID = {"service": "eid-card", "form": eid_form()}
CASES = "/t/aalst/v1/cases"


@pytest.fixture
def mollie(app: Flask) -> Iterator[MollieStandIn]:
    with mollie_for(app) as stand_in:
        yield stand_in


def _fee_due(client: FlaskClient, town: Town, citizen: str = "jan") -> str:
    """A citizen's identity card case, moved by the case worker to wait for its fee; its URL."""
    created = client.post(CASES, json=EID, headers=town.headers[citizen])
    moved = client.post(created.headers["Location"] + "/transitions", json={"to": "fee_due"},
                        headers=town.headers["worker"] | {"If-Match": created.headers["ETag"]})
    assert data(moved)["status"] == "fee_due"
    return str(created.headers["Location"])


def _pay_online(client: FlaskClient, town: Town, case: str) -> dict[str, Any]:
    started = client.post(case + "/payments", json={"method": "online", "return_url": "https://portal.example/back"},
                          headers=town.headers["jan"])
    assert started.status_code == 201, started.get_data(as_text=True)
    return dict(data(started))


def _notice(client: FlaskClient, ref: str) -> Any:
    return client.post("/t/aalst/v1/payments/webhooks/mollie", data={"id": ref})


def _ref(mollie: MollieStandIn, payment: dict[str, Any]) -> str:
    return next(ref for ref, found in mollie.payments.items() if found.body["metadata"]["payment"] == payment["id"])


def test_a_citizen_pays_online_and_the_case_moves_on_by_itself(client: FlaskClient, town: Town,
                                                                 mollie: MollieStandIn) -> None:
    case = _fee_due(client, town)
    payment = _pay_online(client, town, case)
    assert payment["status"] == "open" and payment["amount"] == {"amount_cents": 2500, "currency": "EUR"}
    ref = _ref(mollie, payment)
    asked = mollie.payments[ref].body
    assert asked["amount"] == {"currency": "EUR", "value": "25.00"} and asked["redirectUrl"] == "https://portal.example/back"
    assert asked["webhookUrl"].endswith("/t/aalst/v1/payments/webhooks/mollie")
    assert payment["checkout_url"] == asked["_links"]["checkout"]["href"]

    # Back from the checkout without Mollie's word: nothing is paid.
    assert _notice(client, ref).status_code == 200
    assert data(client.get(case, headers=town.headers["jan"]))["status"] == "fee_due"

    mollie.settle(ref)
    assert _notice(client, ref).status_code == 200
    assert _notice(client, ref).status_code == 200  # Mollie may call twice: paid once
    followed = data(client.get(case, headers=town.headers["jan"]))
    assert followed["status"] == "production_ordered"
    assert [s["to"] for s in followed["timeline"] if s["kind"] == "transition"][-1] == "production_ordered"
    documents = data(client.get(case + "/documents", headers=town.headers["jan"]))["items"]
    receipts = [d for d in documents if d["filename"].startswith("receipt-")]
    assert len(receipts) == 1 and receipts[0]["content_type"] == "application/pdf"
    listed = data(client.get(case + "/payments", headers=town.headers["jan"]))["items"]
    assert [(p["status"], p["checkout_url"]) for p in listed] == [("paid", None)] and listed[0]["paid_at"]
    assert_problem(client.post(case + "/payments", json={"method": "online"}, headers=town.headers["jan"]), 409)


def test_a_notice_whose_payment_does_not_match_changes_nothing(app: Flask, client: FlaskClient, town: Town,
                                                               mollie: MollieStandIn) -> None:
    case = _fee_due(client, town)
    ref = _ref(mollie, _pay_online(client, town, case))
    mollie.settle(ref, value="0.01")  # paid, but not the fee that was asked
    assert _notice(client, ref).status_code == 200
    assert _notice(client, "tr_unknown1").status_code == 200  # an id Mollie does not know: the same answer
    assert data(client.get(case, headers=town.headers["jan"]))["status"] == "fee_due"
    assert data(client.get(case + "/payments", headers=town.headers["jan"]))["items"][0]["status"] == "open"
    for bad in ({}, {"id": "re_123"}, {"id": "tr_" + "x" * 80}):
        assert_problem(client.post("/t/aalst/v1/payments/webhooks/mollie", data=bad), 422)


def test_a_failed_payment_leaves_the_case_waiting_and_a_new_one_can_be_made(client: FlaskClient, town: Town,
                                                                           mollie: MollieStandIn) -> None:
    case = _fee_due(client, town)
    ref = _ref(mollie, _pay_online(client, town, case))
    mollie.settle(ref, "failed")
    _notice(client, ref)
    assert data(client.get(case, headers=town.headers["jan"]))["status"] == "fee_due"
    second = _pay_online(client, town, case)
    assert [p["status"] for p in data(client.get(case + "/payments", headers=town.headers["jan"]))["items"]] == [
        "failed", "open"] and second["status"] == "open"


def test_staff_record_a_payment_at_the_counter(client: FlaskClient, town: Town) -> None:
    case = _fee_due(client, town)
    assert_problem(client.post(case + "/payments", json={"method": "counter"}, headers=town.headers["jan"]), 403)
    assert_problem(client.post(case + "/payments", json={"method": "online"}, headers=town.headers["jan"]), 409)
    assert_problem(client.post("/t/aalst/v1/payments/webhooks/mollie", data={"id": "tr_abc"}), 404)
    paid = client.post(case + "/payments", json={"method": "counter"}, headers=town.headers["worker"])
    assert paid.status_code == 201 and data(paid)["status"] == "paid"
    assert client.get(paid.headers["Location"], headers=town.headers["jan"]).status_code == 200
    assert data(client.get(case, headers=town.headers["jan"]))["status"] == "production_ordered"


def test_bad_payment_requests_change_nothing(client: FlaskClient, town: Town, mollie: MollieStandIn) -> None:
    created = client.post(CASES, json=EID, headers=town.headers["jan"])
    case = created.headers["Location"]
    assert_problem(client.post(case + "/payments", json={"method": "online"}, headers=town.headers["jan"]), 409)
    case = _fee_due(client, town)
    for body in ({}, {"method": "cash"}, {"method": "online", "return_url": "javascript:alert(1)"}):
        assert_problem(client.post(case + "/payments", json=body, headers=town.headers["jan"]), 422)
    assert data(client.get(case + "/payments", headers=town.headers["jan"]))["items"] == []
    assert mollie.payments == {}


def test_another_citizen_sees_no_payment_of_mine(client: FlaskClient, town: Town, mollie: MollieStandIn) -> None:
    case = _fee_due(client, town)
    payment = _pay_online(client, town, case)
    for url in (case + "/payments", f"{case}/payments/{payment['id']}"):
        assert_problem(client.get(url, headers=town.headers["an"]), 404)
    assert_problem(client.post(case + "/payments", json={"method": "online"}, headers=town.headers["an"]), 404)


def test_a_fee_paid_for_a_cancelled_case_goes_back_audited(app: Flask, client: FlaskClient, town: Town,
                                                           mollie: MollieStandIn) -> None:
    case = _fee_due(client, town)
    ref = _ref(mollie, _pay_online(client, town, case))
    etag = client.get(case, headers=town.headers["jan"]).headers["ETag"]
    cancelled = client.post(case + "/transitions", json={"to": "cancelled"},
                            headers=town.headers["jan"] | {"If-Match": etag})
    assert cancelled.status_code == 200
    mollie.settle(ref)  # the citizen had the checkout open and paid after all
    _notice(client, ref)
    with app.app_context():
        provider = app.extensions["townhall.payments"]
        mollie.refused_refunds = True
        assert refund_payments(database(), provider, "worker:refunds") == 0  # tried again next round
        mollie.refused_refunds = False
        assert refund_payments(database(), provider, "worker:refunds") == 1
        assert refund_payments(database(), provider, "worker:refunds") == 0
        with database().sessions() as session, tenant_scope(session, town.tenant.id):
            actions = session.scalars(select(AuditEntry.action).where(AuditEntry.tenant_id == town.tenant.id)).all()
    assert actions.count("refund") == 1
    assert [r["amount"] for r in mollie.payments[ref].refunds] == [{"currency": "EUR", "value": "25.00"}]
    listed = data(client.get(case + "/payments", headers=town.headers["jan"]))["items"]
    assert listed[0]["status"] == "refunded" and listed[0]["refunded_at"]
