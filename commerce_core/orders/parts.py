"""A merchant's part of an order that the merchant cancelled (it could not fill it).

Why a table of its own: fulfilment is per merchant, so one merchant of a two-merchant order may
cancel its lines while the other still ships. The order stays one row with one status; this row says
whose part is gone, why, and how much of the money was its goods (the settlement statement counts
that as the merchant's refund). Shipping (``commerce_core.shipments``) no longer waits for a
cancelled part, and a part that was shipped can never be cancelled.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from commerce_core.db.base import Base, BigId, UTCDateTime


class OrderPartCancellation(Base):
    __tablename__ = "order_part_cancellations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    reason: Mapped[str] = mapped_column(String(200))
    #: the merchant's goods (its line totals): what the settlement counts as this merchant's refund
    goods_amount: Mapped[int] = mapped_column(Integer)
    #: what was refunded to the shopper (the goods, plus the shipping fee when the whole order went)
    refund_amount: Mapped[int] = mapped_column(Integer)
    refund_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("order_id", "merchant_id"),)
