"""Creating refund rows inside a caller's transaction; the provider is called after commit.

Core statements on a :class:`~commerce_core.uow.Work`, so a refund can be queued on either kind of
unit: a cancellation or an after-sales case (ORM units) and a late payment (the hot capture unit).
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, insert, select

from commerce_core.db.base import table_of
from commerce_core.errors import InvalidInput
from commerce_core.events import RefundRequested
from commerce_core.ids import REFUND_PREFIX, new_public_id
from commerce_core.payments.model import Payment, Refund
from commerce_core.payments.types import PaymentStatus, RefundStatus
from commerce_core.uow import Work

REFUNDABLE = (PaymentStatus.CAPTURED.value, PaymentStatus.PARTIALLY_REFUNDED.value)

#: the order's first captured payment, locked; pending refunds are summed by a second statement, after
#: the lock is held, so it sees refunds queued by whoever held the lock before us
_CAPTURED_PAYMENT = (
    select(Payment.id, Payment.currency, Payment.amount, Payment.refunded_amount)
    .where(Payment.order_id == bindparam("b_order"), Payment.status.in_(REFUNDABLE))
    .order_by(Payment.id)
    .limit(1)
    .with_for_update()
)
_PENDING_REFUNDS = select(func.coalesce(func.sum(Refund.amount), 0)).where(
    Refund.payment_id == bindparam("b_payment"), Refund.status == RefundStatus.PENDING.value
)
_INSERT_REFUND = insert(table_of(Refund))


async def request_refund(
    uow: Work, order_id: int, order_number: str, amount: int, reason: str, *, case_id: int | None = None
) -> str | None:
    """Queue a refund of ``amount`` against the order's captured payment; returns the refund's public
    id (None if nothing was paid)."""
    payment = (await uow.execute(_CAPTURED_PAYMENT, {"b_order": order_id})).first()
    if payment is None:
        return None
    pending = (await uow.execute(_PENDING_REFUNDS, {"b_payment": payment.id})).scalar() or 0
    if amount <= 0 or amount > payment.amount - payment.refunded_amount - pending:
        raise InvalidInput("refund exceeds what was paid", code="refund_too_large", amount=amount)
    public_id = new_public_id(REFUND_PREFIX)
    await uow.execute(
        _INSERT_REFUND,
        dict(
            public_id=public_id,
            payment_id=payment.id,
            order_id=order_id,
            amount=amount,
            reason=reason[:200],
            status=RefundStatus.PENDING.value,
            provider_ref=None,
            after_sales_case_id=case_id,
            attempts=0,
            created_at=uow.now(),
            completed_at=None,
        ),
    )
    uow.emit(RefundRequested(public_id, order_number, amount, payment.currency))
    return public_id
