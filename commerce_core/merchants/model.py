"""Merchant accounts and their onboarding applications. Products belong to a merchant."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from commerce_core.db.base import Base, BigId, PortableJSON, UTCDateTime
from commerce_core.merchants.types import MerchantStatus
from commerce_core.status import StatusMachine

MERCHANT_STATUS = StatusMachine[MerchantStatus](
    "merchant",
    {
        MerchantStatus.APPLIED: frozenset({MerchantStatus.APPROVED, MerchantStatus.REJECTED}),
        MerchantStatus.REJECTED: frozenset({MerchantStatus.APPLIED}),
        MerchantStatus.APPROVED: frozenset({MerchantStatus.ACTIVE}),
        MerchantStatus.ACTIVE: frozenset({MerchantStatus.FROZEN}),
        MerchantStatus.FROZEN: frozenset({MerchantStatus.ACTIVE}),
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


class MerchantApplication(Base):
    """One merchant's onboarding application: what the applicant declared, the files, the review
    outcome, and (after the contract) the activation details. PII is encrypted (phone, payout)."""

    __tablename__ = "merchant_applications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True)
    merchant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchants.id"), unique=True)
    applicant_operator_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("operator_users.id"), nullable=True, index=True
    )
    channel: Mapped[str | None] = mapped_column(String(16), nullable=True)
    channel_user_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    customer_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    language: Mapped[str] = mapped_column(String(8))
    company_name: Mapped[str] = mapped_column(String(200))
    legal_representative: Mapped[str] = mapped_column(String(100))
    contact_name: Mapped[str] = mapped_column(String(100))
    contact_phone_enc: Mapped[str] = mapped_column(Text)
    contact_email: Mapped[str] = mapped_column(String(254))
    industry: Mapped[str] = mapped_column(String(32))
    branded: Mapped[bool] = mapped_column(Boolean, default=False)
    documents: Mapped[dict[str, str]] = mapped_column(PortableJSON)
    rejection_reasons: Mapped[str | None] = mapped_column(Text, nullable=True)
    suggestions: Mapped[str | None] = mapped_column(Text, nullable=True)
    returns_address: Mapped[str | None] = mapped_column(Text, nullable=True)
    after_sales_policy: Mapped[str | None] = mapped_column(Text, nullable=True)
    payout_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
