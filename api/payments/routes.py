"""/t/<tenant>/v1/cases/<id>/payments: pay a case's fee online (the provider's checkout) or at the
counter (staff), and read the payments; /t/<tenant>/v1/payments/webhooks/mollie: the provider's
notice that a payment changed, acted on only after asking the provider itself."""

import uuid
from typing import Any

from flask import Response, current_app, g, jsonify, request, url_for
from werkzeug.exceptions import BadGateway, ServiceUnavailable

from api.access import public
from api.database import session
from api.errors import http_error
from api.http import json_body
from api.idempotent_requests import idempotent
from api.oauth.protect import requires
from api.principal import principal
from api.tenant_api import current_municipality, tenant_api
from townhall.audit.writes import note_read
from townhall.auth.scopes import CITIZEN
from townhall.cases.models import Case
from townhall.cases.queries import visible_case
from townhall.errors import Conflict, Forbidden, NotFound
from townhall.payments.models import ONLINE, Payment
from townhall.payments.operations import confirm, pay_at_counter, start_online
from townhall.payments.provider import PaymentProvider, ProviderUnavailable
from townhall.payments.queries import payment_of_case, payments_of_case
from townhall.payments.schemas import PaymentInput, ProviderNotice
from townhall.validation import load


def _provider() -> PaymentProvider | None:
    found: PaymentProvider | None = current_app.extensions.get("townhall.payments")
    return found


def _case(case_id: uuid.UUID) -> Case:
    case = visible_case(session(), g.tenant.id, principal().viewer, case_id)
    if case is None:
        raise NotFound("No such case for you here.")
    note_read(session(), case.tenant_id, case.citizen_id)
    return case


def _view(payment: Payment) -> dict[str, Any]:
    return {"id": str(payment.id), "case_id": str(payment.case_id), "method": payment.method,
            "status": payment.status, "amount": {"amount_cents": payment.amount_cents, "currency": payment.currency},
            "checkout_url": payment.checkout_url if payment.status == "open" else None,
            "created_at": payment.created_at.isoformat(),
            "paid_at": payment.paid_at.isoformat() if payment.paid_at else None,
            "refunded_at": payment.refunded_at.isoformat() if payment.refunded_at else None}


@tenant_api.post("/cases/<uuid:case_id>/payments")
@requires("cases:write")
def pay(case_id: uuid.UUID) -> Response:
    return idempotent(lambda: _pay(case_id))


def _pay(case_id: uuid.UUID) -> Response:
    caller = principal()
    case = _case(case_id)
    data = json_body(PaymentInput)
    storage = current_app.extensions["townhall.storage"]
    if data["method"] == ONLINE:
        return_url = data.get("return_url") or f"{current_app.config['TOWNHALL_SETTINGS'].base_url}/t/{g.tenant.slug}/"
        provider = _provider()
        if provider is None:
            raise Conflict("Online payment is not offered on this platform; the fee is paid at the counter.")
        try:
            payment = start_online(session(), provider, current_municipality(), case, caller.actor, return_url)
        except ProviderUnavailable as error:
            raise http_error(BadGateway, f"The payment provider did not take the payment: {error}",
                             "payment_provider_failed") from error
    else:
        if caller.role == CITIZEN:
            raise Forbidden("A payment at the counter is recorded by the municipality's staff.")
        payment = pay_at_counter(session(), storage, current_municipality(), case, caller.actor)
    response = jsonify(_view(payment))
    response.status_code = 201
    response.headers["Location"] = url_for("tenant_api.get_payment", case_id=case.id, payment_id=payment.id)
    return response


@tenant_api.get("/cases/<uuid:case_id>/payments")
@requires("cases:read")
def list_payments(case_id: uuid.UUID) -> Response:
    case = _case(case_id)
    return jsonify(items=[_view(p) for p in payments_of_case(session(), g.tenant.id, case.id)], next=None)


@tenant_api.get("/cases/<uuid:case_id>/payments/<uuid:payment_id>")
@requires("cases:read")
def get_payment(case_id: uuid.UUID, payment_id: uuid.UUID) -> Response:
    case = _case(case_id)
    found = payment_of_case(session(), g.tenant.id, case.id, payment_id)
    if found is None:
        raise NotFound("No such payment on this case.")
    return jsonify(_view(found))


@tenant_api.post("/payments/webhooks/mollie")
@public
def mollie_notice() -> Response:
    """Mollie calls this when a payment changes, with its id only. The answer is the same whether
    the id is known here or not (nothing is told to a caller guessing ids); what Mollie itself
    says of the payment is all that counts."""
    notice = load(ProviderNotice, request.form.to_dict())
    provider = _provider()
    if provider is None:
        raise NotFound("Online payment is not set up here: no payment can be confirmed.")
    try:
        confirm(session(), provider, current_app.extensions["townhall.storage"], current_municipality(),
                notice["id"])
    except ProviderUnavailable as error:  # Mollie sends the notice again later
        raise http_error(ServiceUnavailable, "The payment provider could not be asked; send the notice again.",
                         "payment_provider_failed") from error
    return jsonify(received=True)
