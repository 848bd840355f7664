"""Payments' vocabulary: payment and refund statuses, payment requests and notification outcomes.

Why a module of its own: enums, views and commands are what the rest of the core and the edges
share; keeping them apart from the ORM models and services lets anyone import them without
pulling in persistence (``commerce_core.api`` re-exports them).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from commerce_core.money import Money


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
