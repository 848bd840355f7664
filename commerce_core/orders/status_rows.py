"""Order status changes for rows read with column queries, on any unit of work (hot paths).

:func:`commerce_core.orders.transitions.move_row` writes through ``uow.session``, which the
connection-level PostgreSQL unit does not have. This runs the very same rule
(``transitions._announce``: the status-machine check, the history row and the event), then writes
the status with a statement built once per target status, through ``uow.execute``.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import bindparam, update

from commerce_core.orders import transitions
from commerce_core.orders.model import Order, OrderStatus
from commerce_core.uow import UnitOfWork, Work

_UPDATES: dict[OrderStatus, Any] = {}


def _update_for(target: OrderStatus) -> Any:
    stmt = _UPDATES.get(target)
    if stmt is None:
        values: dict[str, Any] = {"status": target.value, "updated_at": bindparam("b_now")}
        stamp = transitions._STAMP.get(target)
        if stamp is not None:
            values[stamp] = bindparam("b_now")
        stmt = _UPDATES[target] = update(Order).where(Order.id == bindparam("b_order")).values(**values)
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
    """Like ``transitions.move_row`` (same check, history and event) for any :class:`Work`."""
    # _announce only records history, emits and reads the clock: the Work part of a unit
    now = transitions._announce(
        cast(UnitOfWork, uow), order_id, number, customer_id, OrderStatus(current), target, actor, reason
    )
    await uow.execute(_update_for(target), {"b_order": order_id, "b_now": now})
