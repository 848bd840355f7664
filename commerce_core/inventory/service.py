"""Stock operations. Reservation, commit and release run inside the caller's unit of work.

Oversell protection is a conditional update per SKU, taken in primary-key order so two orders for the
same SKUs never deadlock: ``UPDATE ... SET reserved = reserved + q WHERE sku_id = :id AND
on_hand - reserved >= q``. Zero rows updated means not enough stock; the caller's transaction then
rolls back every reservation it made. The CHECK constraints on ``stock_levels`` back this up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy import CTE, ColumnElement, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import InstrumentedAttribute

from commerce_core.db.base import table_of
from commerce_core.errors import InvalidInput, NotFound, OutOfStock
from commerce_core.inventory.model import Reservation, StockLevel
from commerce_core.inventory.types import ReservationStatus
from commerce_core.uow import Units, Work

# Built once: hot paths run them with parameters, so they are compiled (and prepared) only once.
_RESERVE = (
    update(StockLevel)
    .where(
        StockLevel.sku_id == bindparam("b_sku"),
        StockLevel.on_hand - StockLevel.reserved >= bindparam("b_quantity"),
    )
    .values(reserved=StockLevel.reserved + bindparam("b_quantity"))
    .returning(StockLevel.sku_id)
)
_AVAILABLE = select(StockLevel.on_hand - StockLevel.reserved).where(StockLevel.sku_id == bindparam("b_sku"))
_INSERT_RESERVATIONS = insert(table_of(Reservation))
_TAKE_FROM_SHELF = (
    update(StockLevel)
    .where(StockLevel.sku_id == bindparam("b_sku"))
    .values(
        reserved=StockLevel.reserved - bindparam("b_quantity"),
        on_hand=StockLevel.on_hand - bindparam("b_quantity"),
    )
)
_UNRESERVE = (
    update(StockLevel)
    .where(StockLevel.sku_id == bindparam("b_sku"))
    .values(reserved=StockLevel.reserved - bindparam("b_quantity"))
)
#: close the order's active reservations (what the stock rows need is already known: see
#: :func:`commit_held`)
_CLOSE_RESERVATIONS = (
    update(Reservation)
    .where(
        Reservation.order_id == bindparam("b_order"),
        Reservation.status == ReservationStatus.ACTIVE.value,
    )
    .values(status=bindparam("b_status"))
)
#: the same, saying what they held, in one round trip
_SETTLE_RESERVATIONS = _CLOSE_RESERVATIONS.returning(Reservation.sku_id, Reservation.quantity)


def held_by(
    order_id: ColumnElement[int] | InstrumentedAttribute[int],
) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """(SKU ids, units) an order's active reservations hold, as two arrays in SKU id order: columns
    for a PostgreSQL statement that already locks the order (see :func:`commit_held`)."""
    active = (Reservation.order_id == order_id) & (Reservation.status == ReservationStatus.ACTIVE.value)
    skus = select(func.array_agg(aggregate_order_by(Reservation.sku_id, Reservation.sku_id))).where(active)
    units = select(func.array_agg(aggregate_order_by(Reservation.quantity, Reservation.sku_id))).where(active)
    return skus.scalar_subquery(), units.scalar_subquery()


async def reserve(
    uow: Work,
    order_id: int,
    quantities: Mapping[int, int],
    expires_at: datetime,
    now: datetime,
    sku_codes: Mapping[int, str],
) -> None:
    """Hold ``quantities`` (sku id -> units) for ``order_id`` until ``expires_at``, or raise OutOfStock."""
    for sku_id in sorted(quantities):
        quantity = quantities[sku_id]
        result = await uow.execute(_RESERVE, {"b_sku": sku_id, "b_quantity": quantity})
        if result.first() is None:
            await refuse(uow, sku_id, quantity, sku_codes.get(sku_id, str(sku_id)))
    await record_reservations(uow, order_id, quantities, expires_at, now)


def reserving_one(when: ColumnElement[bool]) -> CTE:
    """PostgreSQL: :func:`reserve` of one SKU (binds ``b_sku``, ``b_quantity``) as a CTE named
    ``reserved`` that returns the SKU's id if it held the units, and does nothing unless ``when``
    holds; for a statement that writes the order and reserves its only SKU in one round trip. The
    caller then calls :func:`refuse` when no row came back, or :func:`record_reservations`."""
    return _RESERVE.where(when).cte("reserved")


async def refuse(uow: Work, sku_id: int, quantity: int, sku_code: str) -> NoReturn:
    """Not enough stock for ``quantity`` units of ``sku_id``: say how many there are."""
    available = (await uow.execute(_AVAILABLE, {"b_sku": sku_id})).scalar()
    raise OutOfStock("not enough stock", sku=sku_code, requested=quantity, available=max(0, available or 0))


async def record_reservations(
    uow: Work, order_id: int, quantities: Mapping[int, int], expires_at: datetime, now: datetime
) -> None:
    """The reservation rows of units just held for a new order (see :func:`reserve`)."""
    await uow.write_later(  # new rows of this unit's new order: they can go with the commit
        _INSERT_RESERVATIONS,
        [
            {
                "order_id": order_id,
                "sku_id": sku_id,
                "quantity": quantities[sku_id],
                "expires_at": expires_at,
                "status": ReservationStatus.ACTIVE.value,
                "created_at": now,
            }
            for sku_id in sorted(quantities)
        ],
    )


async def _settle(uow: Work, order_id: int, target: ReservationStatus, *, leave_shelf: bool) -> int:
    settled = (await uow.execute(_SETTLE_RESERVATIONS, {"b_order": order_id, "b_status": target.value})).all()
    stock_update = _TAKE_FROM_SHELF if leave_shelf else _UNRESERVE
    for sku_id, quantity in sorted((int(r.sku_id), int(r.quantity)) for r in settled):  # primary-key order
        await uow.execute(stock_update, {"b_sku": sku_id, "b_quantity": quantity})
    return len(settled)


async def commit(uow: Work, order_id: int) -> int:
    """Payment arrived: reserved units leave the shelf (on_hand and reserved both drop)."""
    return await _settle(uow, order_id, ReservationStatus.COMMITTED, leave_shelf=True)


async def commit_held(uow: Work, order_id: int, sku_ids: Sequence[int], units: Sequence[int]) -> int:
    """:func:`commit` for PostgreSQL when the order's active reservations were read (:func:`held_by`)
    by the statement that locked the order: one round trip per SKU instead of one more to settle them.

    Why that read is current: every path that settles reservations (this one, cancelling, the payment
    timeout) locks the order row first and finds it awaiting payment, and the rows were written with
    the order, before any payment could exist; a settlement committed while the caller waited for the
    lock also moved the order on, so the caller sees that status and does not come here. The stock
    rows are still updated one by one in SKU id order (the order placing reserves them in, so the
    two never deadlock); closing the reservations goes with the commit."""
    for sku_id, quantity in sorted(zip(sku_ids, units, strict=True)):
        await uow.execute(_TAKE_FROM_SHELF, {"b_sku": sku_id, "b_quantity": quantity})
    await uow.write_later(
        _CLOSE_RESERVATIONS, {"b_order": order_id, "b_status": ReservationStatus.COMMITTED.value}
    )
    return len(sku_ids)


async def release(uow: Work, order_id: int) -> int:
    """Cancellation or timeout before payment: the held units become available again."""
    return await _settle(uow, order_id, ReservationStatus.RELEASED, leave_shelf=False)


async def restock(uow: Work, quantities: Mapping[int, int]) -> None:
    """Units come back after a paid order is cancelled before shipping."""
    for sku_id in sorted(quantities):
        await uow.execute(
            update(StockLevel)
            .where(StockLevel.sku_id == sku_id)
            .values(on_hand=StockLevel.on_hand + quantities[sku_id])
        )


#: SKU code -> SKU id, for the codes that exist. SKU codes are the catalogue's (which depends on
#: inventory for availability), so inventory asks through this port instead of importing it; the
#: composition root passes :func:`commerce_core.catalog.queries.sku_ids`.
SkuIds = Callable[[Work, Sequence[str]], Awaitable[dict[str, int]]]


class InventoryService:
    def __init__(self, units: Units, sku_ids: SkuIds) -> None:
        self._units = units
        self._sku_ids = sku_ids

    async def set_on_hand(self, sku_code: str, on_hand: int, *, actor: str) -> int:
        """Set counted stock; refuses a count below what is reserved for unpaid orders."""
        if isinstance(on_hand, bool) or not isinstance(on_hand, int) or not 0 <= on_hand <= 10**7:
            raise InvalidInput("stock must be between 0 and 10,000,000", code="invalid_quantity")
        async with self._units.orm() as uow:
            sku_id = (await self._sku_ids(uow, [sku_code])).get(sku_code)
            if sku_id is None:
                raise NotFound(f"no SKU {sku_code!r}", code="sku_not_found", sku=sku_code)
            level = await uow.session.scalar(
                select(StockLevel).where(StockLevel.sku_id == sku_id).with_for_update()
            )
            if level is None:
                level = StockLevel(sku_id=sku_id, on_hand=0, reserved=0)
                uow.session.add(level)
            if on_hand < level.reserved:
                raise InvalidInput(
                    "stock cannot go below reserved units", code="below_reserved", reserved=level.reserved
                )
            previous = level.on_hand
            level.on_hand = on_hand
            uow.record_status("stock", sku_id, str(previous), str(on_hand), actor)
            await uow.commit()
            return on_hand

    async def levels(self, sku_codes: list[str]) -> dict[str, tuple[int, int]]:
        """sku code -> (on_hand, reserved)."""
        async with self._units.orm() as uow:
            ids = await self._sku_ids(uow, sku_codes)
            codes = {sku_id: code for code, sku_id in ids.items()}
            rows = (
                await uow.session.execute(
                    select(StockLevel.sku_id, StockLevel.on_hand, StockLevel.reserved).where(
                        StockLevel.sku_id.in_(list(codes))
                    )
                )
            ).all()
            return {codes[sku_id]: (on_hand, reserved) for sku_id, on_hand, reserved in rows}
