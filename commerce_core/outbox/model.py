"""Outbox rows: one per domain event, written in the transaction that raised it.

On PostgreSQL an insert into the outbox fires ``NOTIFY shopbot_outbox`` (migration 0003), delivered
at commit, so relays wake at once instead of polling.

A row is *queued* until it is sent (``sent_at``) or parked (``parked_at``: it failed too often or
cannot be decoded; kept with ``last_error`` for a person to requeue). Rows of one ``ordering_key``
are delivered in id order: only the oldest queued row of a key (its head) may be claimed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from commerce_core.db.base import Base, BigId, PortableJSON, UTCDateTime

#: the PostgreSQL notification channel a committed outbox insert signals on
OUTBOX_CHANNEL = "shopbot_outbox"
#: the rows still waiting for delivery (the partial index's condition, and the relay's)
QUEUED = "sent_at IS NULL AND parked_at IS NULL"


class OutboxMessage(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(PortableJSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    available_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: set when the relay gave up on the row (too many failures, or a payload it cannot decode)
    parked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: whose messages must be delivered in order (e.g. ``customer:42``); None: no ordering needed
    ordering_key: Mapped[str | None] = mapped_column(String(96), nullable=True)

    __table_args__ = (
        Index("ix_outbox_pending", "sent_at", "available_at"),
        # only queued rows: "is an earlier row of this key still queued?" stays a short probe
        Index(
            "ix_outbox_queued",
            "ordering_key",
            "id",
            postgresql_where=text(QUEUED),
            sqlite_where=text(QUEUED),
        ),
    )
