"""PostgreSQL: a new order, its lines and (when it has one SKU) its stock reservation in one statement.

Why: placing an order is the costliest shopper turn; written one statement at a time, the order row,
its lines and the stock cost three round trips (each ~40-80 µs of Python CPU on top of the wait).
Here they are data-modifying CTEs of one INSERT, so the unit's transaction, the idempotency key and
the oversell guard work as before:

* the order is inserted unless (customer, idempotency key) exists; the lines are selected from the
  inserted order, so a lost race inserts nothing and returns no row;
* the stock is held by :func:`commerce_core.inventory.service.reserving_one` (the same conditional
  UPDATE), only if the order was inserted; the caller reads ``reserved`` and, when the stock was
  short, raises out of stock, and its unit rolls back the order and lines;
* an order of several SKUs reserves them one by one in SKU id order after this statement (the order
  every order takes them in, so two orders never deadlock): one row per statement keeps that order.

* an order to one of the shopper's saved addresses copies that address's ciphertext in the same
  statement (returned, to show it): the confirmation turn does not read the address first. No such
  address (deleted meanwhile) leaves ``address_enc`` NULL, and the NOT NULL constraint refuses the
  order: :data:`MISSING_ADDRESS` is that error's SQLSTATE.

The row lock on the SKU is taken in this statement, then held through the commit's statement and
COMMIT: the same stretch as when the reservation was the unit's last statement before them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from itertools import product
from typing import Any, NamedTuple

from sqlalchemy import ARRAY, BigInteger, Integer, Text, bindparam, cast, exists, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB

from commerce_core.customers.model import Address
from commerce_core.db.base import table_of
from commerce_core.inventory import service as inventory
from commerce_core.orders.model import Order, OrderLine
from commerce_core.uow import Work

_ORDER_COLUMNS = (
    "number",
    "customer_id",
    "idempotency_key",
    "status",
    "currency",
    "subtotal",
    "shipping_fee",
    "total",
    "refunded_total",
    "address_enc",
    "note",
    "payment_due_at",
    "created_at",
    "updated_at",
)
#: order line columns given as arrays (one element per line), with the array's element type
_LINE_ARRAYS: tuple[tuple[str, Any], ...] = (
    ("line_no", Integer),
    ("sku_id", BigInteger),
    ("product_id", BigInteger),
    ("merchant_id", BigInteger),
    ("sku_code", Text),
    ("product_name", Text),  # JSON text, stored as jsonb
    ("options", Text),
    ("unit_price", Integer),
    ("quantity", Integer),
    ("line_total", Integer),
)
_JSON_COLUMNS = frozenset({"product_name", "options"})
#: not_null_violation: the saved address an order was to copy does not exist (or is not the shopper's)
MISSING_ADDRESS = "23502"


def _statement(reserve: bool, saved: bool) -> Any:
    orders, lines, addresses = table_of(Order), table_of(OrderLine), table_of(Address)
    values: dict[str, Any] = {name: bindparam(name, type_=orders.c[name].type) for name in _ORDER_COLUMNS}
    if saved:
        values["address_enc"] = (
            select(addresses.c.payload_enc)
            .where(
                addresses.c.id == bindparam("b_address", type_=addresses.c.id.type),
                addresses.c.customer_id == values["customer_id"],
            )
            .scalar_subquery()
        )
    new_order = (
        postgresql.insert(orders)
        .values(values)
        .on_conflict_do_nothing(index_elements=["customer_id", "idempotency_key"])
        .returning(orders.c.id, orders.c.address_enc)
        .cte("new_order")
    )
    given = (
        func.unnest(*(bindparam(f"l_{name}", type_=ARRAY(kind)) for name, kind in _LINE_ARRAYS))
        .table_valued(*(name for name, _ in _LINE_ARRAYS))
        .render_derived(name="given")
    )
    picked = [
        cast(given.c[name], JSONB) if name in _JSON_COLUMNS else given.c[name] for name, _ in _LINE_ARRAYS
    ]
    statement = (
        lines.insert()
        .from_select(["order_id", *(name for name, _ in _LINE_ARRAYS)], select(new_order.c.id, *picked))
        .add_cte(new_order)
    )
    returned: list[Any] = [lines.c.order_id, lines.c.id, lines.c.line_no]
    if saved:
        returned.append(select(new_order.c.address_enc).scalar_subquery().label("address_enc"))
    if not reserve:
        return statement.returning(*returned)
    reserved = inventory.reserving_one(exists(select(new_order.c.id)))
    held = exists(select(reserved.c.sku_id)).label("reserved")
    return statement.add_cte(reserved).returning(*returned, held)


#: (reserve one SKU's stock, copy a saved address) -> the statement
_PLACE = {(reserve, saved): _statement(reserve, saved) for reserve, saved in product((False, True), repeat=2)}


class Placed(NamedTuple):
    order_id: int
    line_ids: list[int]
    held: bool  # the stock of a one-SKU order was reserved (True when it was not asked for)
    address_enc: str | None  # the saved address's ciphertext copied into the order (when asked for)


async def insert_order(
    uow: Work,
    order: Mapping[str, Any],
    lines: Sequence[Mapping[str, Any]],
    reserve: tuple[int, int] | None,
    saved_address: int | None = None,
) -> Placed | None:
    """Insert ``order`` (its column values) and ``lines`` (each line's values but ``order_id``); with
    ``reserve`` = (SKU id, units), also hold that stock; with ``saved_address`` (an address id of the
    order's customer), copy that address into the order instead of ``order["address_enc"]``. Returns
    None when an order with the same idempotency key exists."""
    values: dict[str, Any] = {name: order[name] for name in _ORDER_COLUMNS}
    if saved_address is not None:
        values["b_address"] = saved_address
        del values["address_enc"]
    for name, _ in _LINE_ARRAYS:
        column = [line[name] for line in lines]
        values[f"l_{name}"] = [json.dumps(v) for v in column] if name in _JSON_COLUMNS else column
    if reserve is not None:
        values["b_sku"], values["b_quantity"] = reserve
    rows = (await uow.execute(_PLACE[reserve is not None, saved_address is not None], values)).all()
    if not rows:
        return None
    ordered = sorted(rows, key=lambda row: row.line_no)
    return Placed(
        rows[0].order_id,
        [row.id for row in ordered],
        reserve is None or bool(rows[0].reserved),
        rows[0].address_enc if saved_address is not None else None,
    )
