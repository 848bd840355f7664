"""Merchant accounts. Products belong to a merchant; onboarding review moves the status later."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from commerce_core.db.base import Base, BigId, PortableJSON, UTCDateTime
from commerce_core.merchants.types import MerchantStatus
from commerce_core.status import StatusMachine

MERCHANT_STATUS = StatusMachine[MerchantStatus](
    "merchant",
    {
        MerchantStatus.APPLIED: frozenset({MerchantStatus.UNDER_REVIEW, MerchantStatus.REJECTED}),
        MerchantStatus.UNDER_REVIEW: frozenset({MerchantStatus.ACTIVE, MerchantStatus.REJECTED}),
        MerchantStatus.ACTIVE: frozenset({MerchantStatus.FROZEN}),
        MerchantStatus.FROZEN: frozenset({MerchantStatus.ACTIVE}),
        MerchantStatus.REJECTED: frozenset({MerchantStatus.APPLIED}),
    },
)


class Merchant(Base):
    __tablename__ = "merchants"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[dict[str, str]] = mapped_column(PortableJSON)
    status: Mapped[str] = mapped_column(String(16), default=MerchantStatus.APPLIED.value)
    contact_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    contact_phone_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
