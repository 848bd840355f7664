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


class CaseStatus(StrEnum):
    OPEN = "open"
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
