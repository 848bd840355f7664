"""The ``behaviour_events`` table: one row per thing a shopper did, pruned by ``day``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from commerce_core.db.base import Base, BigId, PortableJSON, UTCDateTime


class BehaviourEvent(Base):
    __tablename__ = "behaviour_events"
    __table_args__ = (Index("ix_behaviour_events_day_kind", "day", "kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(24))
    #: a keyed pseudonym (blind index) of the customer, or of the conversation before there is one
    subject: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    merchant_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    product: Mapped[str | None] = mapped_column(String(64), nullable=True)
    query: Mapped[str | None] = mapped_column(Text, nullable=True)
    filters: Mapped[dict[str, Any] | None] = mapped_column(PortableJSON, nullable=True)
    results: Mapped[int | None] = mapped_column(Integer, nullable=True)
    amount: Mapped[int | None] = mapped_column(Integer, nullable=True)
