"""Mollie (used by many Belgian municipalities) through its official Python client. The webhook it
calls carries only the payment's id: the status is always fetched back from Mollie with the API
key, so a forged or replayed call can change nothing."""

from collections.abc import Mapping
from typing import Any

from mollie.api.client import Client
from mollie.api.error import Error, NotFoundError

from townhall.payments.provider import ProviderPayment, ProviderUnavailable, cents, decimal_text


class MollieProvider:
    name = "mollie"

    def __init__(self, api_key: str, api_url: str) -> None:
        self._client = Client(api_endpoint=api_url, timeout=(2, 10), retry=1)
        self._client.set_api_key(api_key)

    def create(self, amount_cents: int, currency: str, description: str, redirect_url: str, webhook_url: str,
               metadata: Mapping[str, str]) -> ProviderPayment:
        try:
            payment = self._client.payments.create({
                "amount": {"currency": currency, "value": decimal_text(amount_cents)},
                "description": description, "redirectUrl": redirect_url, "webhookUrl": webhook_url,
                "metadata": dict(metadata)})
        except Error as error:
            raise ProviderUnavailable(f"Mollie refused the payment: {error}") from error
        return _payment(payment)

    def fetch(self, ref: str) -> ProviderPayment | None:
        try:
            return _payment(self._client.payments.get(ref))
        except NotFoundError:
            return None
        except Error as error:
            raise ProviderUnavailable(f"Mollie did not answer: {error}") from error

    def refund(self, ref: str, amount_cents: int, currency: str, description: str) -> str:
        try:
            payment = self._client.payments.get(ref)
            refund = payment.refunds.create({"amount": {"currency": currency, "value": decimal_text(amount_cents)},
                                             "description": description})
        except Error as error:
            raise ProviderUnavailable(f"Mollie refused the refund: {error}") from error
        return str(refund.id)


def _payment(found: Any) -> ProviderPayment:
    amount = found.amount or {}
    return ProviderPayment(ref=str(found.id), status=str(found.status),
                           amount_cents=cents(str(amount.get("value", "0"))), currency=str(amount.get("currency", "")),
                           checkout_url=found.checkout_url, metadata=found.metadata or {})
