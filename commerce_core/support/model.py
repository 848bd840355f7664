"""Handoff tickets (a person takes over a conversation) and the audit log of staff/system actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from commerce_core.db.base import Base, BigId, PortableJSON, UTCDateTime
from commerce_core.status import StatusMachine
from commerce_core.support.types import TicketKind, TicketStatus

_DONE: frozenset[TicketStatus] = frozenset()
#: handoffs: queued (waiting) -> assigned (with agent) -> resolved; complaints and feedback: -> closed
TICKET_STATUS = StatusMachine[TicketStatus](
    "ticket",
    {
        TicketStatus.QUEUED: frozenset(
            {TicketStatus.ASSIGNED, TicketStatus.CANCELLED, TicketStatus.TIMED_OUT, TicketStatus.CLOSED}
        ),
        TicketStatus.ASSIGNED: frozenset({TicketStatus.QUEUED, TicketStatus.RESOLVED, TicketStatus.CLOSED}),
        TicketStatus.RESOLVED: _DONE,
        TicketStatus.CANCELLED: _DONE,
        TicketStatus.TIMED_OUT: _DONE,
        TicketStatus.CLOSED: _DONE,
    },
)


class Ticket(Base):
    __tablename__ = "support_tickets"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), nullable=True, index=True)
    conversation_key: Mapped[str] = mapped_column(String(160))
    channel: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default=TicketStatus.QUEUED.value)
    assignee: Mapped[str | None] = mapped_column(String(96), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    kind: Mapped[str] = mapped_column(String(16), default=TicketKind.HANDOFF.value, server_default="handoff")
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: feedback to resolution (R5.4-2): what the complaint/feedback was about and how it ended
    category: Mapped[str | None] = mapped_column(String(32), nullable=True)
    resolution: Mapped[str | None] = mapped_column(String(500), nullable=True)
    #: when staff first wrote to the shopper (the console's first-response time)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        Index("ix_support_tickets_conversation", "conversation_key", "status"),
        Index("ix_support_tickets_queue", "kind", "status", "id"),
    )


class TicketMessage(Base):
    """What the shopper, the agent and the bot said while a person handled the conversation, and the
    agents' private notes; erased with the shopper (``customer_id``) and after the retention."""

    __tablename__ = "support_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("support_tickets.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), nullable=True, index=True)
    author: Mapped[str] = mapped_column(String(16))
    author_name: Mapped[str | None] = mapped_column(String(96), nullable=True)
    text: Mapped[str] = mapped_column(String(2000))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    #: a photo the shopper sent (a file store key), shown to staff only
    file_key: Mapped[str | None] = mapped_column(String(300), nullable=True)


class StaffTopic(Base):
    """The Telegram staff group's forum topic of one shopper conversation: reused when the shopper
    comes back, replaced when staff deleted it. In the database so every process finds the same one."""

    __tablename__ = "support_staff_topics"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_key: Mapped[str] = mapped_column(String(160), unique=True)
    chat_id: Mapped[str] = mapped_column(String(32))
    thread_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_support_staff_topics_thread", "chat_id", "thread_id"),)


class AuditEntry(Base):
    """Who did what to which record, and when (staff and system actions, R7.1-3)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    actor: Mapped[str] = mapped_column(String(96))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_audit_log_target", "target_type", "target_id"),)
