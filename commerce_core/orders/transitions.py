"""The one place an order changes status: checked against the table, recorded, announced."""

from __future__ import annotations

from commerce_core.events import OrderStatusChanged
from commerce_core.orders.model import ORDER_STATUS, Order, OrderStatus
from commerce_core.uow import UnitOfWork


def move(
    uow: UnitOfWork, order: Order, target: OrderStatus, *, actor: str, reason: str | None = None
) -> None:
    current = OrderStatus(order.status)
    ORDER_STATUS.check(current, target)
    now = uow.now()
    order.status = target.value
    order.updated_at = now
    if target is OrderStatus.PAID:
        order.paid_at = now
    elif target is OrderStatus.SHIPPED:
        order.shipped_at = now
    elif target is OrderStatus.DELIVERED:
        order.delivered_at = now
    elif target in (OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.REFUNDED):
        order.closed_at = now
    uow.record_status("order", order.id, current.value, target.value, actor, reason)
    uow.emit(OrderStatusChanged(order.number, order.customer_id, current.value, target.value, actor, reason))
