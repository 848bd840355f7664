"""Reading orders: by number, a customer's latest, the operator's list, an order's history.

Shopper reads (status, tracking, "my orders") are prebuilt column statements on the hot unit, an
order and its lines in one read; the operator's list and history are ORM reads. The part shared by
the other order modules (views from rows, loading and locking an order on the ORM unit) lives here
too.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Select, bindparam, select

from commerce_core.customers.types import AddressInput
from commerce_core.db.base import table_of
from commerce_core.errors import NotFound
from commerce_core.ids import normalise_public_id
from commerce_core.money import Money
from commerce_core.orders.model import Order, OrderLine
from commerce_core.orders.types import OrderLineView, OrderView, StatusChangeView
from commerce_core.security import FieldCipher
from commerce_core.status import StatusChange
from commerce_core.uow import UnitOfWork, Units, Work

_ORDERS = table_of(Order)
_LINES = table_of(OrderLine)
#: order reads for shoppers: prebuilt, on the hot unit
_ORDER_BY_NUMBER = select(_ORDERS).where(_ORDERS.c.number == bindparam("b_number"))
_ORDERS_OF_CUSTOMER = (
    select(_ORDERS)
    .where(_ORDERS.c.customer_id == bindparam("b_customer"))
    .order_by(_ORDERS.c.id.desc())
    .limit(bindparam("b_limit"))
)


def _with_lines(orders: Select[Any]) -> Select[Any]:
    """``orders`` (newest first), each row beside one of its lines (columns ``l_<name>``; one row of
    NULLs for an order without lines): an order and its lines in one read instead of two."""
    picked = orders.subquery("picked")
    return (
        select(picked, *(column.label(f"l_{column.key}") for column in _LINES.c))
        .outerjoin(_LINES, _LINES.c.order_id == picked.c.id)
        .order_by(picked.c.id.desc(), _LINES.c.line_no)
    )


_ORDER_WITH_LINES = _with_lines(_ORDER_BY_NUMBER)
_ORDERS_WITH_LINES = _with_lines(_ORDERS_OF_CUSTOMER)


def _grouped(rows: Sequence[Any]) -> list[tuple[Any, list[SimpleNamespace]]]:
    """Rows of :func:`_with_lines` as (order row, its lines), in the rows' order."""
    grouped: list[tuple[Any, list[SimpleNamespace]]] = []
    for row in rows:
        if not grouped or grouped[-1][0].id != row.id:
            grouped.append((row, []))
        if row.l_id is not None:
            grouped[-1][1].append(SimpleNamespace(**{c.key: getattr(row, f"l_{c.key}") for c in _LINES.c}))
    return grouped


_LINES_OF = (
    select(_LINES)
    .where(_LINES.c.order_id.in_(bindparam("b_orders", expanding=True)))
    .order_by(_LINES.c.order_id, _LINES.c.line_no)
)


class OrderQueries:
    """The read side of :class:`~commerce_core.orders.service.OrderService` (and what its other
    parts share)."""

    def __init__(self, units: Units, cipher: FieldCipher) -> None:
        self._units = units
        self._cipher = cipher

    async def _view(self, uow: Work, order: Any) -> OrderView:
        return (await self._views(uow, [order]))[0]

    async def _views(self, uow: Work, orders: Sequence[Any]) -> list[OrderView]:
        """Views of ``orders`` (Order objects or order-table rows) with their lines, read in one query
        for all of them, on any unit of work."""
        by_order: dict[int, list[Any]] = {order.id: [] for order in orders}
        if orders:
            for line in (await uow.execute(_LINES_OF, {"b_orders": list(by_order)})).all():
                by_order[line.order_id].append(line)
        return [self._as_view(order, by_order[order.id]) for order in orders]

    def _as_view(self, order: Any, lines: Sequence[Any]) -> OrderView:
        currency = order.currency
        return OrderView(
            id=order.id,
            number=order.number,
            customer_id=order.customer_id,
            status=order.status,
            subtotal=Money(order.subtotal, currency),
            shipping_fee=Money(order.shipping_fee, currency),
            total=Money(order.total, currency),
            refunded=Money(order.refunded_total, currency),
            lines=tuple(
                OrderLineView(
                    line.id,
                    line.line_no,
                    line.sku_code,
                    dict(line.product_name),
                    dict(line.options),
                    Money(line.unit_price, currency),
                    line.quantity,
                    line.merchant_id,
                )
                for line in lines
            ),
            address=AddressInput.from_dict(self._cipher.decrypt_json(order.address_enc)),
            created_at=order.created_at,
            payment_due_at=order.payment_due_at,
            paid_at=order.paid_at,
            shipped_at=order.shipped_at,
            delivered_at=order.delivered_at,
            cancel_reason=order.cancel_reason,
        )

    async def get(self, number: str, *, customer_id: int | None = None) -> OrderView:
        """An order by number; with ``customer_id``, only that customer's (others see 'not found')."""
        async with self._units.hot() as uow:
            rows = (await uow.execute(_ORDER_WITH_LINES, {"b_number": normalise_public_id(number)})).all()
        found = _grouped(rows)
        if not found or (customer_id is not None and found[0][0].customer_id != customer_id):
            raise NotFound("no such order", code="order_not_found", order=number)
        return self._as_view(*found[0])

    @staticmethod
    async def _load(uow: UnitOfWork, number: str, customer_id: int | None, *, lock: bool = False) -> Order:
        stmt = select(Order).where(Order.number == normalise_public_id(number))
        order = await uow.session.scalar(stmt.with_for_update() if lock else stmt)
        if order is None or (customer_id is not None and order.customer_id != customer_id):
            raise NotFound("no such order", code="order_not_found", order=number)
        return order

    async def for_customer(self, customer_id: int, *, limit: int = 10) -> list[OrderView]:
        async with self._units.hot() as uow:
            rows = (
                await uow.execute(_ORDERS_WITH_LINES, {"b_customer": customer_id, "b_limit": limit})
            ).all()
        return [self._as_view(order, lines) for order, lines in _grouped(rows)]

    async def list_recent(self, *, status: str | None = None, limit: int = 50) -> list[OrderView]:
        async with self._units.orm() as uow:
            stmt = select(Order).order_by(Order.id.desc()).limit(limit)
            if status:
                stmt = stmt.where(Order.status == status)
            return await self._views(uow, (await uow.session.scalars(stmt)).all())

    async def history(self, number: str) -> list[StatusChangeView]:
        async with self._units.orm() as uow:
            order = await self._load(uow, number, None)
            rows = (
                await uow.session.scalars(
                    select(StatusChange)
                    .where(StatusChange.entity_type == "order", StatusChange.entity_id == order.id)
                    .order_by(StatusChange.id)
                )
            ).all()
            return [StatusChangeView(r.from_status, r.to_status, r.actor, r.reason, r.at) for r in rows]
