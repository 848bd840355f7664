"""What the merchant console's order tools take and return: the order list's filter, the result of
cancelling a part, and the settlement statement (views only; no persistence)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from commerce_core.money import Money

#: the reasons a merchant cancels its part are free text, but never empty and never long
CANCEL_REASON_LIMIT = 200


@dataclass(frozen=True, slots=True)
class OrderFilter:
    """The console's order list filter; every part optional. Dates are whole UTC days, inclusive."""

    status: str | None = None
    placed_from: date | None = None
    placed_to: date | None = None
    #: part of an order number (what a merchant types from a label or a shopper's message)
    number: str | None = None


@dataclass(frozen=True, slots=True)
class PartCancelResult:
    order_number: str
    order_status: str
    refund_id: str | None
    refund: Money
    #: nothing of the order is left: it was cancelled as a whole (and the shipping fee refunded too)
    whole_order: bool


@dataclass(frozen=True, slots=True)
class SettlementOrder:
    """One paid order on the statement: this merchant's goods in it."""

    order_number: str
    paid_at: datetime
    goods: Money


@dataclass(frozen=True, slots=True)
class SettlementRefund:
    """One refund paid back in the period, as far as it was this merchant's goods."""

    order_number: str
    refund_id: str
    completed_at: datetime
    refunded: Money
    #: the shopper's whole refund (the merchant's share is ``refunded``)
    refund_total: Money


@dataclass(frozen=True, slots=True)
class SettlementStatement:
    """A merchant's period: sales of paid orders, refunds paid back, the platform's fee, what is owed.

    ``net = gross - refunds``; the fee is ``fee_percent`` of a positive net, rounded half up to the
    minor unit; ``payable = net - fee``. A period whose refunds exceed its sales pays nothing and
    carries the difference (``carried_over``) to the next statement.
    """

    merchant_code: str
    period_from: date
    period_to: date  # inclusive
    currency: str
    fee_percent: Decimal
    orders: tuple[SettlementOrder, ...]
    refunds: tuple[SettlementRefund, ...]
    gross: Money
    refunded: Money
    fee: Money
    payable: Money
    carried_over: Money

    @property
    def paid_orders(self) -> int:
        return len(self.orders)
