"""Changing placed orders: cancellation (stock back, refund if paid), address changes, completion,
and the expiry of unpaid orders. ORM units: these are shopper- or operator-paced, not hot.

Refunds belong to payments, which depends on orders; so orders never import payments. The refund is
queued through a port (:data:`RefundRequester`) the composition root fills with
:func:`commerce_core.payments.refunds.request_refund`, and paid back after commit through
:data:`RefundRunner`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from sqlalchemy import column, select, table

from commerce_core.customers.types import AddressInput
from commerce_core.errors import NotAllowed
from commerce_core.events import OrderCancelled
from commerce_core.inventory import service as inventory
from commerce_core.orders import transitions
from commerce_core.orders.model import CANCELLABLE, Order, OrderLine
from commerce_core.orders.queries import OrderQueries
from commerce_core.orders.types import CancelResult, OrderStatus, OrderView
from commerce_core.uow import UnitOfWork, Work
from commerce_core.validation import clean_text

RefundRunner = Callable[[str], Awaitable[str]]
#: the one column of shipments that orders look at (shipments depend on orders, never the reverse)
_PARCELS = table("shipments", column("order_id"))


async def _has_parcel(uow: UnitOfWork, order_id: int) -> bool:
    """Whether some merchant has shipped its part: a paid order is then no longer cancellable or
    re-addressable as a whole (fulfilment is per merchant; the order is paid until the last part)."""
    query = select(_PARCELS.c.order_id).where(_PARCELS.c.order_id == order_id).limit(1)
    return await uow.session.scalar(query) is not None


class RefundRequester(Protocol):
    """Queue a refund in the caller's unit; returns the refund's public id, None if nothing was paid."""

    async def __call__(
        self, uow: Work, order_id: int, order_number: str, amount: int, reason: str
    ) -> str | None: ...


class OrderChanges(OrderQueries):
    """The change side of :class:`~commerce_core.orders.service.OrderService`."""

    refund_runner: RefundRunner | None
    _request_refund: RefundRequester | None

    async def cancel(
        self, number: str, *, actor: str, reason: str, customer_id: int | None = None
    ) -> CancelResult:
        """Cancel before shipping; unpaid orders release stock, paid ones restock and refund in full."""
        reason = clean_text(reason, "reason", max_length=200)
        async with self._units.orm() as uow:
            order = await self._load(uow, number, customer_id, lock=True)
            status = OrderStatus(order.status)
            if status not in CANCELLABLE or (status is OrderStatus.PAID and await _has_parcel(uow, order.id)):
                raise NotAllowed(
                    "this order can no longer be cancelled", code="order_not_cancellable", status=order.status
                )
            refund_id = None
            if status is OrderStatus.PENDING_PAYMENT:
                await inventory.release(uow, order.id)
            else:
                refund_id = await self._restock_and_refund(uow, order)
            order.cancel_reason = reason
            transitions.move(uow, order, OrderStatus.CANCELLED, actor=actor, reason=reason)
            uow.emit(
                OrderCancelled(
                    order.number,
                    order.customer_id,
                    reason,
                    order.total - order.refunded_total if refund_id else 0,
                )
            )
            await uow.flush()
            view = await self._view(uow, order)
            await uow.commit()
        if refund_id and self.refund_runner is not None:
            await self.refund_runner(refund_id)
        return CancelResult(view, refund_id)

    async def _restock_and_refund(self, uow: UnitOfWork, order: Order) -> str | None:
        """A paid order's units go back on the shelf and its money is queued for refund."""
        lines = (
            await uow.session.execute(
                select(OrderLine.sku_id, OrderLine.quantity).where(OrderLine.order_id == order.id)
            )
        ).all()
        quantities: dict[int, int] = {}
        for sku_id, quantity in lines:
            quantities[sku_id] = quantities.get(sku_id, 0) + quantity
        await inventory.restock(uow, quantities)
        if self._request_refund is None:
            raise RuntimeError("orders were built without a refund requester (see Commerce)")
        return await self._request_refund(
            uow, order.id, order.number, order.total - order.refunded_total, "order_cancelled"
        )

    async def change_address(self, number: str, customer_id: int, address: AddressInput) -> OrderView:
        clean = address.validated()
        async with self._units.orm() as uow:
            order = await self._load(uow, number, customer_id, lock=True)
            if OrderStatus(order.status) not in CANCELLABLE or await _has_parcel(uow, order.id):
                raise NotAllowed(
                    "the address can no longer be changed", code="address_locked", status=order.status
                )
            order.address_enc = self._cipher.encrypt_json(clean.to_dict())
            order.updated_at = uow.now()
            uow.record_status("order_address", order.id, None, "changed", f"customer:{customer_id}")
            view = await self._view(uow, order)
            await uow.commit()
            return view

    async def complete(self, number: str, *, actor: str, customer_id: int | None = None) -> OrderView:
        """The shopper confirms receipt (or the auto-confirm job runs after delivery)."""
        async with self._units.orm() as uow:
            order = await self._load(uow, number, customer_id, lock=True)
            transitions.move(uow, order, OrderStatus.COMPLETED, actor=actor)
            view = await self._view(uow, order)
            await uow.commit()
            return view

    async def expire_unpaid(self, now: datetime | None = None, *, batch: int = 200) -> list[str]:
        """Cancel orders whose payment window passed and release their stock; returns their numbers."""
        expired: list[str] = []
        async with self._units.orm() as uow:
            cutoff = now or uow.now()
            numbers = (
                await uow.session.scalars(
                    select(Order.number)
                    .where(Order.status == OrderStatus.PENDING_PAYMENT.value, Order.payment_due_at <= cutoff)
                    .order_by(Order.id)
                    .limit(batch)
                )
            ).all()
        for number in numbers:
            async with self._units.orm() as uow:
                order = await self._load(uow, number, None, lock=True)
                if order.status != OrderStatus.PENDING_PAYMENT.value:
                    continue  # paid in the meantime
                await inventory.release(uow, order.id)
                order.cancel_reason = "payment_timeout"
                transitions.move(uow, order, OrderStatus.CANCELLED, actor="system", reason="payment_timeout")
                uow.emit(OrderCancelled(order.number, order.customer_id, "payment_timeout", 0))
                await uow.commit()
                expired.append(number)
        return expired
