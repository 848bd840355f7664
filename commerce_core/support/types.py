"""Support's vocabulary: ticket statuses and the ticket view.

Why a module of its own: enums, views and commands are what the rest of the core and the edges
share; keeping them apart from the ORM models and services lets anyone import them without
pulling in persistence (``commerce_core.api`` re-exports them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class TicketStatus(StrEnum):
    QUEUED = "queued"
    ASSIGNED = "assigned"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class TicketView:
    number: str
    conversation_key: str
    channel: str
    customer_id: int | None
    status: str
    assignee: str | None
    reason: str
    created_at: datetime
    queue_position: int
