"""What Townhall needs of an online payment provider; `mollie.py` is the adapter in use."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

# The provider's payment statuses that end a payment, and what they become here.
SETTLED = {"paid": "paid", "failed": "failed", "canceled": "canceled", "expired": "expired"}


class ProviderUnavailable(Exception):
    """The provider did not answer, or refused the request: nothing was paid or refunded."""


@dataclass(frozen=True)
class ProviderPayment:
    ref: str
    status: str  # the provider's word: open, pending, authorized, paid, failed, canceled, expired
    amount_cents: int
    currency: str
    checkout_url: str | None
    metadata: Mapping[str, Any]


class PaymentProvider(Protocol):
    name: str

    def create(self, amount_cents: int, currency: str, description: str, redirect_url: str, webhook_url: str,
               metadata: Mapping[str, str]) -> ProviderPayment: ...

    def fetch(self, ref: str) -> ProviderPayment | None:
        """The payment as the provider knows it now; None if it knows no such payment."""

    def refund(self, ref: str, amount_cents: int, currency: str, description: str) -> str:
        """Give the amount back; the refund's reference."""


def cents(value: str) -> int:
    """'25.00' → 2500 (the providers' decimal strings; never through a float)."""
    whole, _, fraction = value.partition(".")
    return int(whole) * 100 + int((fraction + "00")[:2])


def decimal_text(amount_cents: int) -> str:
    return f"{amount_cents // 100}.{amount_cents % 100:02d}"
