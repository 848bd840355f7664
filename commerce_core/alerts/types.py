"""What the edges see of anomaly alerts: the rules, their thresholds, an alert as staff read it.

Why thresholds are a value here and their numbers a setting at the edge: the rules are domain
knowledge (what counts as a burst, a loop, a shared contact), how sensitive they are is a deployment's
choice (``SHOPBOT_ALERTS_*``, :mod:`bot.alerts.settings`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class AlertRule(StrEnum):
    """Each anomaly the platform watches for, by the stable name stored with its alerts."""

    #: N failed payment notifications within a window, for one shopper (R3.4-2)
    PAYMENT_FAILURES_SHOPPER = "payment_failures_shopper"
    #: N failed payment notifications within a window, across the whole platform (R3.4-2)
    PAYMENT_FAILURES_PLATFORM = "payment_failures_platform"
    #: an order whose total or quantity is above its threshold (R3.4-2)
    LARGE_ORDER = "large_order"
    #: several new accounts ship to (or proved) the same phone (R4.1-6)
    SHARED_PHONE = "shared_phone"
    #: several new accounts ship to the same address (R4.1-6)
    SHARED_ADDRESS = "shared_address"
    #: a channel identity joined an existing account from a channel it did not use before (R5.1-3)
    NEW_CHANNEL_LINKED = "new_channel_linked"
    #: the buyer is the merchant itself: a bound identity, the contact phone or the applicant (R4.1-6)
    SELF_PURCHASE = "self_purchase"
    #: one shopper's orders paid and then refunded, K times within a window (R4.1-6)
    REFUND_LOOP = "refund_loop"


class AlertState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"


@dataclass(frozen=True, slots=True)
class AlertThresholds:
    """How sensitive each rule is; the defaults suit a small shop (see ``bot.alerts.settings``)."""

    #: failed payments of one shopper within ``payment_failure_window_minutes`` that raise an alert
    payment_failures_per_shopper: int = 3
    #: failed payments on the whole platform within the same window
    payment_failures_platform: int = 20
    payment_failure_window_minutes: int = 10
    #: an order total at or above this, in the currency's main unit (yuan, dollars)
    large_order_amount: float = 20_000.0
    #: an order with at least this many items (all lines together)
    large_order_quantity: int = 50
    #: distinct new accounts sharing one phone or address that raise an alert
    accounts_per_contact: int = 3
    #: an account is "new" for this many days after it was created
    new_account_days: int = 7
    #: paid-then-refunded orders of one shopper within ``refund_loop_window_hours``
    refund_loop_orders: int = 3
    refund_loop_window_hours: int = 72


@dataclass(frozen=True, slots=True)
class AlertView:
    """One alert as staff see it. ``details`` holds counts, thresholds, order numbers and masked
    contacts only: never a raw phone, name or address."""

    public_id: str
    rule: AlertRule
    subject: str
    details: dict[str, Any]
    raised_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    note: str | None = None

    @property
    def state(self) -> AlertState:
        return AlertState.OPEN if self.acknowledged_at is None else AlertState.ACKNOWLEDGED


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """Which alerts a list shows (all fields optional; ``since``/``until`` carry a time zone)."""

    rule: AlertRule | None = None
    state: AlertState | None = None
    since: datetime | None = None
    until: datetime | None = None
