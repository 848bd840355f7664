"""After-sales vocabulary: case kinds and statuses, the policy, item requests and case views.

Why a module of its own: enums, views and commands are what the rest of the core and the edges
share; keeping them apart from the ORM models and services lets anyone import them without
pulling in persistence (``commerce_core.api`` re-exports them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class CaseKind(StrEnum):
    RETURN = "return"
    REFUND = "refund"
    EXCHANGE = "exchange"
    REPAIR = "repair"
    #: the parcel is lost, late or damaged on the way: the merchant and the desk look into it
    PARCEL_PROBLEM = "parcel_problem"


class CaseStatus(StrEnum):
    OPEN = "open"
    #: staff asked the shopper for more information or photos; their answer reopens the case
    AWAITING_INFO = "awaiting_info"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class AfterSalesPolicy:
    return_window: timedelta = timedelta(days=7)
    warranty: timedelta = timedelta(days=365)
    first_response_sla: timedelta = timedelta(hours=24)
    #: still unanswered this long after the first-response deadline: the admins are told too
    escalate_after: timedelta = timedelta(hours=4)


@dataclass(frozen=True, slots=True)
class CaseItemRequest:
    line_no: int
    quantity: int


@dataclass(frozen=True, slots=True)
class CaseView:
    number: str
    order_number: str
    kind: str
    status: str
    reason_code: str
    quality_issue: bool
    items: tuple[tuple[int, int], ...]  # (line_no, quantity)
    refund_amount: int
    first_response_due_at: datetime
    first_responded_at: datetime | None
    progress: tuple[dict[str, str], ...]
    created_at: datetime
    #: what the after-sales desk added: the variant wanted in exchange, the return parcel, the
    #: merchant's returns address, the repair's stage, refunds paid on the case, the shopper's rating
    wanted_sku: str | None = None
    return_carrier: str | None = None
    return_tracking: str | None = None
    return_received_at: datetime | None = None
    replacement_tracking: str | None = None
    returns_address: str | None = None
    repair_stage: str | None = None
    refunded: int = 0
    currency: str = "CNY"
    rating: int | None = None
    alerted_at: datetime | None = None
    escalated_at: datetime | None = None
    merchant_ids: tuple[int, ...] = ()
    reason_text: str | None = None
    photos: tuple[str, ...] = ()

    def overdue(self, now: datetime) -> bool:
        """No first answer and the 24-hour deadline has passed (R5.4-1)."""
        return self.first_responded_at is None and now >= self.first_response_due_at and self.is_open

    @property
    def is_open(self) -> bool:
        return self.status in ("open", "awaiting_info", "accepted", "in_progress")


class RepairStage(StrEnum):
    """A repair's progress, in this order; each stage is pushed to the shopper."""

    RECEIVED = "received"
    DIAGNOSING = "diagnosing"
    REPAIRING = "repairing"
    SHIPPED_BACK = "shipped_back"


REPAIR_STAGES: tuple[RepairStage, ...] = tuple(RepairStage)


class CaseUpdate(StrEnum):
    """What the desk did to a case: each one is told to the shopper (``desk.notify.<update>``)."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    INFO_REQUESTED = "info_requested"
    REFUNDED = "refunded"
    EXCHANGE_RECORDED = "exchange_recorded"
    RETURN_RECEIVED = "return_received"
    REPLACEMENT_SHIPPED = "replacement_shipped"
    REPAIR_STAGE = "repair_stage"
    RETURNS_ADDRESS = "returns_address"
    CLOSED = "closed"
