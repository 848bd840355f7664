"""A merchant's tools on its own orders: cancel the part it cannot fill, the filtered order list.

Scoped like the rest of the console (``commerce_core.operators.console``): every call takes the
signed-in merchant's id, and another merchant's order is "not found", exactly like an unknown number.

Cancelling a part (R4.4): only a paid order, only this merchant's lines, never once they were shipped.
In one transaction the lines' units go back on the shelf, the refund of their goods is queued against
the order's captured payment (the same refund path as cancellations, after-sales and late payments;
the provider is asked after commit), the order's history records it, the shopper's notice goes to the
outbox and the audit log gets its row. The order itself: cancelled when no part is left, shipped when
every part left has gone to a carrier, otherwise still paid (the other merchants still ship).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, column, select, table

from commerce_core.errors import InvalidInput, NotAllowed, NotFound
from commerce_core.events import OrderPartCancelled
from commerce_core.ids import normalise_public_id
from commerce_core.inventory import service as inventory
from commerce_core.merchant_orders.types import CANCEL_REASON_LIMIT, OrderFilter, PartCancelResult
from commerce_core.merchants.model import Merchant
from commerce_core.money import Money
from commerce_core.operators.audit import add_actor_audit
from commerce_core.operators.console import MAX_CONSOLE_PAGE, order_views
from commerce_core.operators.types import Actor, MerchantOrderView
from commerce_core.orders import transitions
from commerce_core.orders.model import Order, OrderLine
from commerce_core.orders.parts import OrderPartCancellation
from commerce_core.orders.types import OrderStatus
from commerce_core.payments.refunds import request_refund
from commerce_core.security import FieldCipher
from commerce_core.uow import UnitOfWork, Units
from commerce_core.validation import clean_text

RefundRunner = Callable[[str], Awaitable[str]]
#: the two columns of shipments read here (a parcel of the merchant, or one from before per-merchant
#: shipping, which carried every part)
_PARCELS = table("shipments", column("order_id"), column("merchant_id"))
_NUMBER_SEARCH = 16


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of ``day``."""
    return datetime.combine(day, time.min, tzinfo=UTC)


class MerchantOrders:
    """``commerce.merchant_orders``: part cancellation and the filtered list (settlement: see
    :mod:`commerce_core.merchant_orders.settlement`)."""

    def __init__(
        self, units: Units, cipher: FieldCipher, *, refund_runner: RefundRunner | None = None
    ) -> None:
        self._units = units
        self._cipher = cipher
        self.refund_runner = refund_runner

    async def parts_to_tell(
        self, merchant_id: int, numbers: Sequence[str]
    ) -> list[tuple[MerchantOrderView, str]]:
        """This merchant's part of each order with the delivery city (never the street, name or phone),
        in the order asked, in one unit: what a paid-order message or digest shows. Unknown numbers
        and orders without this merchant's lines are left out."""
        wanted = [normalise_public_id(n) for n in numbers][:MAX_CONSOLE_PAGE]
        if not wanted:
            return []
        mine = select(OrderLine.order_id).where(OrderLine.merchant_id == merchant_id)
        async with self._units.orm() as uow:
            orders = (
                await uow.session.scalars(select(Order).where(Order.number.in_(wanted), Order.id.in_(mine)))
            ).all()
            views = {v.number: v for v in await order_views(uow.session, merchant_id, orders)}
            cities = {
                o.number: str(self._cipher.decrypt_json(o.address_enc).get("city") or "") for o in orders
            }
        return [(views[n], cities[n]) for n in wanted if n in views]

    # -- the order list --------------------------------------------------------------------------
    async def orders(
        self, merchant_id: int, wanted: OrderFilter | None = None, *, limit: int = 50, offset: int = 0
    ) -> list[MerchantOrderView]:
        """Orders with a line of this merchant that match ``wanted``, newest first (only its lines)."""
        if not 1 <= limit <= MAX_CONSOLE_PAGE * 50 or offset < 0:
            raise InvalidInput("page out of range", code="invalid_page")
        query = _filtered(merchant_id, wanted or OrderFilter()).limit(limit).offset(offset)
        async with self._units.orm() as uow:
            orders = (await uow.session.scalars(query)).all()
            return await order_views(uow.session, merchant_id, orders)

    # -- cancelling my part ----------------------------------------------------------------------
    async def cancel_part(
        self, merchant_id: int, number: str, actor: Actor, *, reason: str
    ) -> PartCancelResult:
        reason = clean_text(reason, "reason", max_length=CANCEL_REASON_LIMIT)
        if not reason:
            raise InvalidInput("say why the order is cancelled", code="reason_required")
        who = f"operator:{actor.operator_id}" if actor.operator_id else "system"
        async with self._units.orm() as uow:
            order = await uow.session.scalar(
                select(Order).where(Order.number == normalise_public_id(number or "")).with_for_update()
            )
            mine = [] if order is None else await _lines_of(uow, order.id, merchant_id)
            if order is None or not mine:
                raise NotFound("no such order", code="order_not_found")
            cancelled = await _cancelled_parts(uow, order.id)
            if merchant_id in cancelled:
                raise NotAllowed("you have already cancelled your part", code="part_already_cancelled")
            shipped = await _shipped_parts(uow, order.id)
            if merchant_id in shipped or None in shipped:
                raise NotAllowed("your part has been shipped and cannot be cancelled", code="part_shipped")
            if order.status != OrderStatus.PAID.value:
                raise NotAllowed(
                    "only a paid order can be cancelled here",
                    code="order_not_cancellable",
                    status=order.status,
                )
            goods = sum(line.line_total for line in mine)
            merchants = set(
                (
                    await uow.session.scalars(
                        select(OrderLine.merchant_id).where(OrderLine.order_id == order.id).distinct()
                    )
                ).all()
            )
            left = merchants - set(cancelled) - {merchant_id}
            whole = not left
            # the last part takes the rest of the money with it (the shipping fee included)
            refund = order.total - sum(cancelled.values()) if whole else goods
            quantities: dict[int, int] = {}
            for line in mine:
                quantities[line.sku_id] = quantities.get(line.sku_id, 0) + line.quantity
            await inventory.restock(uow, quantities)
            refund_id = await request_refund(uow, order.id, order.number, refund, "merchant_cancelled")
            code = await uow.session.scalar(select(Merchant.code).where(Merchant.id == merchant_id))
            note = f"{code}: {reason}"
            if whole:
                order.cancel_reason = reason
                transitions.move(uow, order, OrderStatus.CANCELLED, actor=who, reason=note)
            elif left <= shipped:
                transitions.move(uow, order, OrderStatus.SHIPPED, actor=who, reason=note)
            else:  # the others still ship: the status stays, the history says what happened
                uow.record_status(
                    "order", order.id, order.status, order.status, who, f"part_cancelled {note}"
                )
                order.updated_at = uow.now()
            uow.session.add(
                OrderPartCancellation(
                    order_id=order.id,
                    merchant_id=merchant_id,
                    reason=reason,
                    goods_amount=goods,
                    refund_amount=refund,
                    refund_id=refund_id,
                    actor=who[:64],
                    created_at=uow.now(),
                )
            )
            uow.emit(
                OrderPartCancelled(
                    order.number, order.customer_id, str(code), reason, refund, order.currency, whole
                )
            )
            await add_actor_audit(
                uow,
                actor,
                action="order.cancel_part",
                object_type="order",
                object_id=order.number,
                detail=f"{refund} {order.currency}; {reason}",
            )
            result = PartCancelResult(
                order.number, order.status, refund_id, Money(refund, order.currency), whole
            )
            await uow.commit()
        if refund_id and self.refund_runner is not None:
            await self.refund_runner(refund_id)
        return result


def _filtered(merchant_id: int, wanted: OrderFilter) -> Select[Order]:
    mine = select(OrderLine.order_id).where(OrderLine.merchant_id == merchant_id)
    query = select(Order).where(Order.id.in_(mine))
    if wanted.status:
        try:
            query = query.where(Order.status == OrderStatus(wanted.status).value)
        except ValueError:
            raise InvalidInput("unknown order status", code="invalid_status") from None
    if wanted.placed_from is not None:
        query = query.where(Order.created_at >= day_start(wanted.placed_from))
    if wanted.placed_to is not None:
        query = query.where(Order.created_at < day_start(wanted.placed_to) + timedelta(days=1))
    if wanted.placed_from and wanted.placed_to and wanted.placed_from > wanted.placed_to:
        raise InvalidInput("the period ends before it starts", code="invalid_period")
    search = normalise_public_id(wanted.number or "")[:_NUMBER_SEARCH]
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Order.number.like(f"%{escaped}%", escape="\\"))
    return query.order_by(Order.created_at.desc(), Order.id.desc())


async def _lines_of(uow: UnitOfWork, order_id: int, merchant_id: int) -> list[OrderLine]:
    query = select(OrderLine).where(OrderLine.order_id == order_id, OrderLine.merchant_id == merchant_id)
    return list((await uow.session.scalars(query.order_by(OrderLine.line_no))).all())


async def _cancelled_parts(uow: UnitOfWork, order_id: int) -> dict[int, int]:
    """Merchant id -> what its cancellation refunded, for the parts already cancelled."""
    rows = await uow.session.execute(
        select(OrderPartCancellation.merchant_id, OrderPartCancellation.refund_amount).where(
            OrderPartCancellation.order_id == order_id
        )
    )
    return dict(rows.all())


async def _shipped_parts(uow: UnitOfWork, order_id: int) -> set[int | None]:
    rows = await uow.session.scalars(select(_PARCELS.c.merchant_id).where(_PARCELS.c.order_id == order_id))
    return set(rows.all())
