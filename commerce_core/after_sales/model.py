"""After-sales cases (return, refund, exchange, repair), their items and status machine."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from commerce_core.after_sales.types import CaseStatus
from commerce_core.db.base import Base, BigId, PortableJSON, UTCDateTime
from commerce_core.status import StatusMachine

CASE_STATUS = StatusMachine[CaseStatus](
    "after_sales_case",
    {
        CaseStatus.OPEN: frozenset(
            {CaseStatus.ACCEPTED, CaseStatus.REJECTED, CaseStatus.WITHDRAWN, CaseStatus.AWAITING_INFO}
        ),
        # the shopper answered (back to open), or staff decide without waiting
        CaseStatus.AWAITING_INFO: frozenset(
            {CaseStatus.OPEN, CaseStatus.ACCEPTED, CaseStatus.REJECTED, CaseStatus.WITHDRAWN}
        ),
        CaseStatus.ACCEPTED: frozenset({CaseStatus.IN_PROGRESS, CaseStatus.RESOLVED, CaseStatus.WITHDRAWN}),
        CaseStatus.IN_PROGRESS: frozenset({CaseStatus.RESOLVED}),
        CaseStatus.RESOLVED: frozenset({CaseStatus.CLOSED}),
        CaseStatus.REJECTED: frozenset({CaseStatus.CLOSED}),
        CaseStatus.WITHDRAWN: frozenset(),
        CaseStatus.CLOSED: frozenset(),
    },
)
OPEN_CASE_STATUSES = frozenset(
    {CaseStatus.OPEN, CaseStatus.AWAITING_INFO, CaseStatus.ACCEPTED, CaseStatus.IN_PROGRESS}
)


class AfterSalesCase(Base):
    __tablename__ = "after_sales_cases"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.OPEN.value)
    reason_code: Mapped[str] = mapped_column(String(32))
    reason_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    quality_issue: Mapped[bool] = mapped_column(Boolean, default=False)
    photos: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    refund_amount: Mapped[int] = mapped_column(Integer, default=0)
    resolution: Mapped[str | None] = mapped_column(Text, nullable=True)
    progress: Mapped[list[dict[str, str]]] = mapped_column(PortableJSON, default=list)
    first_response_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    first_responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # the after-sales desk (migration 0008): see CaseView for what each one means
    wanted_sku: Mapped[str | None] = mapped_column(String(64), nullable=True)
    return_carrier: Mapped[str | None] = mapped_column(String(32), nullable=True)
    return_tracking: Mapped[str | None] = mapped_column(String(64), nullable=True)
    return_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    replacement_tracking: Mapped[str | None] = mapped_column(String(64), nullable=True)
    returns_address: Mapped[str | None] = mapped_column(Text, nullable=True)
    repair_stage: Mapped[str | None] = mapped_column(String(16), nullable=True)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (Index("ix_after_sales_sla", "status", "first_response_due_at"),)


class AfterSalesItem(Base):
    __tablename__ = "after_sales_items"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("after_sales_cases.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    quantity: Mapped[int] = mapped_column(Integer)

    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)
