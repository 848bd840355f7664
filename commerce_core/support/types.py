"""Support's vocabulary: ticket kinds and statuses, the ticket view and the handoff's messages.

Why a module of its own: enums, views and commands are what the rest of the core and the edges
share; keeping them apart from the ORM models and services lets anyone import them without
pulling in persistence (``commerce_core.api`` re-exports them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

#: the file store folder (under the data directory) of photos shoppers sent during a handoff; the
#: channels write there and the console reads, so both name it from here
HANDOFF_FILES_FOLDER = "handoff-files"


def handoff_file_owner(ticket_number: str) -> str:
    """The file store owner of a handoff's photos (one folder per ticket, erased with it)."""
    return f"handoff:{ticket_number}"


class TicketStatus(StrEnum):
    """A handoff goes bot -> ``queued`` (waiting) -> ``assigned`` (with an agent) -> ``resolved`` (bot
    again); the shopper may leave the queue (``cancelled``) or nobody comes in time (``timed_out``).
    Complaint and feedback tickets go ``queued`` -> ``assigned`` -> ``closed``."""

    QUEUED = "queued"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    CLOSED = "closed"


class TicketKind(StrEnum):
    """A live handoff has its own queue; complaints and feedback are worked later, in another."""

    HANDOFF = "handoff"
    COMPLAINT = "complaint"
    FEEDBACK = "feedback"
    MESSAGE = "message"  # left for staff when nobody could take over (after hours, no agent in time)


class MessageAuthor(StrEnum):
    SHOPPER = "shopper"
    AGENT = "agent"
    BOT = "bot"
    NOTE = "note"  # a private note: staff only, never sent to the shopper


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
    kind: str = TicketKind.HANDOFF.value
    language: str | None = None
    rating: int | None = None
    category: str | None = None
    resolution: str | None = None


@dataclass(frozen=True, slots=True)
class HandoffMessage:
    """One line of a handed-off conversation as the console shows it (``seq`` orders them)."""

    seq: int
    author: str
    author_name: str | None
    text: str
    at: datetime
    #: a photo the shopper sent (file store key), shown to staff with access only
    file_key: str | None = None


@dataclass(frozen=True, slots=True)
class SupportSettings:
    """How long a shopper waits for an agent before the bot takes over again, and when staff work
    (UTC hours, ``start <= hour < end``; start == end means round the clock)."""

    wait_limit_seconds: int = 300
    working_hours_start: int = 0
    working_hours_end: int = 0
    history_retention_days: int = 30
    expected_minutes_per_shopper: int = 2

    def open_at(self, hour: int) -> bool:
        start, end = self.working_hours_start, self.working_hours_end
        if start == end:
            return True
        return start <= hour < end if start < end else hour >= start or hour < end


@dataclass(frozen=True, slots=True)
class StaffTopicView:
    """Where a shopper conversation is discussed in the Telegram staff group (a forum topic)."""

    conversation_key: str
    chat_id: str
    thread_id: int


class FeedbackCategory(StrEnum):
    """What a complaint or feedback ticket was about (R5.4-2), chosen by staff when resolving it."""

    DELIVERY = "delivery"
    PRODUCT = "product"
    SERVICE = "service"
    PAYMENT = "payment"
    WEBSITE = "website"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class AgentFigures:
    """One agent's week: tickets handled, mean first-response and resolution time (seconds; None
    when nothing was measured) and mean rating (None: nobody rated)."""

    agent: str
    week: str  # ISO week, e.g. "2026-W49"
    handled: int
    first_response_seconds: float | None
    resolution_seconds: float | None
    rating: float | None
    ratings: int
