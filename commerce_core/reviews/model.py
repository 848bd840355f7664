"""The product_reviews table: one review per shopper and product."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from commerce_core.db.base import Base, BigId, PortableJSON, UTCDateTime


class ProductReview(Base):
    """A shopper's rating (1-5) and optional comment of a product they received.

    Why one row per shopper and product: the average is of shoppers, not of presses; a held review
    keeps its findings and the staff decision (who, when, why) on the row.
    """

    __tablename__ = "product_reviews"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    findings: Mapped[list[dict[str, str]]] = mapped_column(PortableJSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        UniqueConstraint("product_id", "customer_id"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="review_rating_range"),
        Index("ix_product_reviews_product_status", "product_id", "status"),
    )
