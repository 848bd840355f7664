"""Orders' vocabulary: statuses, the pricing policy, line requests, order views and results.

Why a module of its own: enums, views and commands are what the rest of the core and the edges
share; keeping them apart from the ORM models and services lets anyone import them without
pulling in persistence (``commerce_core.api`` re-exports them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from commerce_core.customers.types import AddressInput
from commerce_core.money import Money
from commerce_core.validation import pick_language


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


@dataclass(frozen=True, slots=True)
class OrderPolicy:
    """How long an unpaid order holds stock, and the shipping fee rule (per currency)."""

    payment_window: timedelta = timedelta(minutes=30)
    free_shipping_from: int = 9900
    shipping_fee: int = 1000
    fee_currencies: frozenset[str] = frozenset({"CNY"})

    def fee_for(self, subtotal: Money) -> int:
        if subtotal.currency not in self.fee_currencies or subtotal.amount >= self.free_shipping_from:
            return 0
        return self.shipping_fee


@dataclass(frozen=True, slots=True)
class LineRequest:
    sku_code: str
    quantity: int


@dataclass(frozen=True, slots=True)
class OrderLineView:
    line_id: int
    line_no: int
    sku_code: str
    name: dict[str, str]
    options: dict[str, str]
    unit_price: Money
    quantity: int
    merchant_id: int

    @property
    def line_total(self) -> Money:
        return self.unit_price.times(self.quantity)

    def title(self, lang: str) -> str:
        return pick_language(self.name, lang)


@dataclass(frozen=True, slots=True)
class OrderView:
    id: int
    number: str
    customer_id: int
    status: str
    subtotal: Money
    shipping_fee: Money
    total: Money
    refunded: Money
    lines: tuple[OrderLineView, ...]
    address: AddressInput
    created_at: datetime
    payment_due_at: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    cancel_reason: str | None

    @property
    def masked_address(self) -> str:
        return self.address.masked_line()

    def to_operator_dict(self) -> dict[str, object]:
        """What ``shopbot orders list --json`` prints: no personal data beyond the masked address."""
        return {
            "number": self.number,
            "status": self.status,
            "total": self.total.amount,
            "currency": self.total.currency,
            "total_display": self.total.format(),
            "created_at": self.created_at.isoformat(),
            "address": self.masked_address,
            "lines": [
                {
                    "sku": line.sku_code,
                    "name": line.title("en"),
                    "quantity": line.quantity,
                    "unit_price": line.unit_price.amount,
                }
                for line in self.lines
            ],
        }


@dataclass(frozen=True, slots=True)
class StatusChangeView:
    from_status: str | None
    to_status: str
    actor: str
    reason: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class CancelResult:
    order: OrderView
    refund_id: str | None
