"""Customers, their channel identities and their addresses. Personal data is encrypted at rest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from commerce_core.db.base import Base, BigId, UTCDateTime


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True)
    language: Mapped[str] = mapped_column(String(8), default="zh-Hans")
    display_name_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    phone_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    phone_index: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    phone_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        # only erased customers: "who was erased lately" (late behaviour events) stays a short probe
        Index(
            "ix_customers_erased",
            "erased_at",
            postgresql_where=text("erased_at IS NOT NULL"),
            sqlite_where=text("erased_at IS NOT NULL"),
        ),
    )


class ChannelIdentity(Base):
    """One account on one platform (Telegram user id, WeChat openid, console user) of a customer."""

    __tablename__ = "customer_identities"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("channel", "external_id"),)


class Address(Base):
    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    payload_enc: Mapped[str] = mapped_column(Text)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_addresses_customer", "customer_id"),)
