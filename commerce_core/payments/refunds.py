"""Creating refund rows inside a caller's transaction; the provider is called after commit."""

from __future__ import annotations

from sqlalchemy import select

from commerce_core.errors import InvalidInput
from commerce_core.events import RefundRequested
from commerce_core.ids import REFUND_PREFIX, new_public_id
from commerce_core.orders.model import Order
from commerce_core.payments.model import Payment, Refund
from commerce_core.payments.types import PaymentStatus, RefundStatus
from commerce_core.uow import UnitOfWork

REFUNDABLE = (PaymentStatus.CAPTURED.value, PaymentStatus.PARTIALLY_REFUNDED.value)


async def captured_payment(uow: UnitOfWork, order_id: int) -> Payment | None:
    return await uow.session.scalar(
        select(Payment)
        .where(Payment.order_id == order_id, Payment.status.in_(REFUNDABLE))
        .order_by(Payment.id)
        .with_for_update()
    )


async def request_refund(
    uow: UnitOfWork, order: Order, amount: int, reason: str, *, case_id: int | None = None
) -> Refund | None:
    """Queue a refund of ``amount`` against the order's captured payment (None if nothing was paid)."""
    payment = await captured_payment(uow, order.id)
    if payment is None:
        return None
    pending = sum(
        (
            await uow.session.scalars(
                select(Refund.amount).where(
                    Refund.payment_id == payment.id, Refund.status == RefundStatus.PENDING.value
                )
            )
        ).all()
    )
    if amount <= 0 or amount > payment.amount - payment.refunded_amount - pending:
        raise InvalidInput("refund exceeds what was paid", code="refund_too_large", amount=amount)
    refund = Refund(
        public_id=new_public_id(REFUND_PREFIX),
        payment_id=payment.id,
        order_id=order.id,
        amount=amount,
        reason=reason[:200],
        status=RefundStatus.PENDING.value,
        after_sales_case_id=case_id,
        created_at=uow.now(),
    )
    uow.session.add(refund)
    await uow.flush()
    uow.emit(RefundRequested(refund.public_id, order.number, amount, payment.currency))
    return refund
