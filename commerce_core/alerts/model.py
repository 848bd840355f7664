"""Tables of anomaly alerts and of the contact fingerprints the shared-contact rule counts.

``alerts.dedup_key`` is unique: the rule, its subject and the window the alert covers. Every process
that evaluates a rule for the same facts computes the same key, so whichever inserts first raises the
alert and the others find it there (no double alerts across processes or outbox retries).

``alert_contacts`` keeps, per customer, the blind index (keyed HMAC, :meth:`FieldCipher.blind_index`)
of the phones and addresses their orders ship to: the rule can count accounts sharing one without any
phone or address stored in clear. Erasing a customer deletes their rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from commerce_core.db.base import Base, BigId, PortableJSON, UTCDateTime


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True)
    rule: Mapped[str] = mapped_column(String(32))
    #: what the alert is about: ``customer:CU..``, ``order:SB..``, ``platform``, ``phone:<index>``
    subject: Mapped[str] = mapped_column(String(96))
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    details: Mapped[dict[str, Any]] = mapped_column(PortableJSON)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: the operator's public id
    acknowledged_by: Mapped[str | None] = mapped_column(String(16), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        Index("ix_alerts_raised_at", "raised_at"),
        Index("ix_alerts_rule_subject", "rule", "subject", "raised_at"),
    )


class AlertContact(Base):
    """One customer's phone or address, as a blind index (``kind`` is ``phone`` or ``address``)."""

    __tablename__ = "alert_contacts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("kind", "digest", "customer_id"),)
