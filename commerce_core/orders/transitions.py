"""The one place an order changes status: checked against the table, recorded, announced."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, update

from commerce_core.events import OrderStatusChanged
from commerce_core.orders.model import ORDER_STATUS, Order
from commerce_core.orders.types import OrderStatus
from commerce_core.uow import UnitOfWork, Work

_STAMP = {
    OrderStatus.PAID: "paid_at",
    OrderStatus.SHIPPED: "shipped_at",
    OrderStatus.DELIVERED: "delivered_at",
    OrderStatus.COMPLETED: "closed_at",
    OrderStatus.CANCELLED: "closed_at",
    OrderStatus.REFUNDED: "closed_at",
}


def _announce(
    uow: Work,
    order_id: int,
    number: str,
    customer_id: int,
    current: OrderStatus,
    target: OrderStatus,
    actor: str,
    reason: str | None,
) -> datetime:
    ORDER_STATUS.check(current, target)
    uow.record_status("order", order_id, current.value, target.value, actor, reason)
    uow.emit(OrderStatusChanged(number, customer_id, current.value, target.value, actor, reason))
    return uow.now()


def move(
    uow: UnitOfWork, order: Order, target: OrderStatus, *, actor: str, reason: str | None = None
) -> None:
    """Change a loaded (and locked) order's status."""
    now = _announce(
        uow, order.id, order.number, order.customer_id, OrderStatus(order.status), target, actor, reason
    )
    order.status = target.value
    order.updated_at = now
    if target in _STAMP:
        setattr(order, _STAMP[target], now)


_ROW_UPDATES: dict[OrderStatus, Any] = {}


def _row_update(target: OrderStatus) -> Any:
    """The status write for ``target``, built once (hot paths run it as a prepared statement)."""
    stmt = _ROW_UPDATES.get(target)
    if stmt is None:
        values: dict[str, Any] = {"status": target.value, "updated_at": bindparam("b_now")}
        if target in _STAMP:
            values[_STAMP[target]] = bindparam("b_now")
        stmt = _ROW_UPDATES[target] = update(Order).where(Order.id == bindparam("b_order")).values(**values)
    return stmt


async def move_row(
    uow: Work,
    order_id: int,
    number: str,
    customer_id: int,
    current: str,
    target: OrderStatus,
    *,
    actor: str,
    reason: str | None = None,
) -> None:
    """The same for a row read (and locked) with a column query, on any unit of work (hot paths skip
    the ORM). The write goes with the commit: nothing after a status change reads the row again."""
    now = _announce(uow, order_id, number, customer_id, OrderStatus(current), target, actor, reason)
    await uow.write_later(_row_update(target), {"b_order": order_id, "b_now": now})
