"""Payments' vocabulary: payment and refund statuses, payment requests and notification outcomes.

Why a module of its own: enums, views and commands are what the rest of the core and the edges
share; keeping them apart from the ORM models and services lets anyone import them without
pulling in persistence (``commerce_core.api`` re-exports them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from commerce_core.money import Money
from commerce_core.validation import pick_language


class PaymentStatus(StrEnum):
    PENDING = "pending"
    CAPTURED = "captured"
    FAILED = "failed"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


class RefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


Outcome = Literal["captured", "duplicate", "failed", "refunding_late_payment", "ignored"]


@dataclass(frozen=True, slots=True)
class PaymentRequestView:
    payment_id: str
    order_number: str
    provider: str
    amount: Money
    pay_url: str | None
    client_token: str | None
    provider_ref: str | None


@dataclass(frozen=True, slots=True)
class NotificationResult:
    outcome: Outcome
    order_number: str | None
    customer_id: int | None
    payment_id: str | None
    refund_ids: tuple[str, ...] = ()


class PayableProblemKind(StrEnum):
    """Why an order cannot be paid now (asked just before the money moves, e.g. Telegram's
    pre-checkout query)."""

    UNKNOWN_ORDER = "unknown_order"
    NOT_PAYABLE = "not_payable"  # no longer awaiting payment (paid, cancelled, ...)
    EXPIRED = "expired"  # the payment window has passed; the expiry job will cancel it
    AMOUNT_CHANGED = "amount_changed"  # the amount or currency asked for is not the order's total
    UNAVAILABLE = "unavailable"  # a line's product is no longer on sale
    PRICE_CHANGED = "price_changed"  # a line's SKU now costs something else


@dataclass(frozen=True, slots=True)
class PayableProblem:
    """A reason not to take the money, returned as data (the edge words it for the shopper).

    ``order_status`` is set for ``not_payable``; ``sku_code`` and ``product_name`` name the line for
    ``unavailable`` and ``price_changed``.
    """

    kind: PayableProblemKind
    order_number: str
    order_status: str | None = None
    sku_code: str | None = None
    product_name: dict[str, str] = field(default_factory=dict)

    def title(self, lang: str) -> str:
        """The line's product name in ``lang`` (empty when the problem is not about a line)."""
        return pick_language(self.product_name, lang) if self.product_name else ""
