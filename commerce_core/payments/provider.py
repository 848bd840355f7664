"""What a payment provider must offer, whatever it is (sandbox, WeChat Pay, Telegram, cards).

Card data never passes through us: a provider gives the shopper a page or token to pay with and tells
us the outcome in a signed notification, which :meth:`PaymentProvider.verify_notification` checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

NotificationKind = Literal["succeeded", "failed"]
_ASCII_DIGITS = frozenset("0123456789")


def parse_amount(value: object) -> int:
    """A provider's amount in minor units, taken only when it is a whole number as sent.

    Why not ``int(value)``: ``int(25900.9)`` is 25900, so a signed ``25900.9`` would be captured as a
    full payment of 25900 (issue 11, finding 12). An int (not a bool) or a string of ASCII digits is
    accepted; a float, ``"25900.9"``, ``"１２"``, a sign or an empty string raises ``ValueError``.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value and len(value) <= 18 and set(value) <= _ASCII_DIGITS:
        return int(value)
    raise ValueError(f"not a whole amount in minor units: {value!r}")


@dataclass(frozen=True, slots=True)
class PaymentIntentRequest:
    reference: str  # our payment id, echoed back by the provider (out_trade_no in WeChat Pay)
    amount: int
    currency: str
    description: str
    order_number: str


@dataclass(frozen=True, slots=True)
class ProviderPayment:
    provider_ref: str
    pay_url: str | None
    client_token: str | None = None


@dataclass(frozen=True, slots=True)
class Notification:
    """A verified provider notification about one payment."""

    event_id: str
    kind: NotificationKind
    reference: str
    provider_ref: str
    amount: int
    currency: str


@dataclass(frozen=True, slots=True)
class ProviderRefund:
    provider_ref: str
    succeeded: bool
    error: str | None = None


class PaymentProvider(Protocol):
    name: str

    async def create_payment(self, request: PaymentIntentRequest) -> ProviderPayment: ...

    def verify_notification(self, body: bytes, headers: Mapping[str, str]) -> Notification:
        """Check signature and freshness; raise PaymentRejected if anything is off."""
        ...

    async def refund(
        self, provider_ref: str, amount: int, currency: str, refund_reference: str
    ) -> ProviderRefund: ...

    async def query(self, provider_ref: str) -> NotificationKind | None:
        """Ask the provider for a payment's outcome when no notification arrived in time."""
        ...
