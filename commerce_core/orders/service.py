"""Orders: placement from the cart (idempotent, stock reserved), reads, cancellation, expiry.

Placement reserves stock and writes the order in one transaction. The same idempotency key from the
same customer always yields the same order, even when two requests race (the unique key decides).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.exc import IntegrityError

from commerce_core.cart.model import CartLine
from commerce_core.cart.service import load_cart
from commerce_core.catalog.model import Product, Sku
from commerce_core.catalog.types import ListingStatus
from commerce_core.customers.types import AddressInput
from commerce_core.db.base import table_of
from commerce_core.db.dialect import insert_ignoring_conflicts
from commerce_core.errors import DomainError, InvalidInput, NotAllowed, NotFound, OutOfStock
from commerce_core.events import OrderCancelled, OrderPlaced
from commerce_core.ids import ORDER_PREFIX, new_public_id, normalise_public_id
from commerce_core.inventory import service as inventory
from commerce_core.inventory.model import StockLevel
from commerce_core.money import Money
from commerce_core.orders import transitions
from commerce_core.orders.model import CANCELLABLE, Order, OrderLine
from commerce_core.orders.types import (
    CancelResult,
    LineRequest,
    OrderLineView,
    OrderPolicy,
    OrderStatus,
    OrderView,
    StatusChangeView,
)
from commerce_core.payments.refunds import request_refund
from commerce_core.security import FieldCipher
from commerce_core.status import StatusChange
from commerce_core.uow import NeedsSession, UnitOfWork, UnitOfWorkFactory, Work
from commerce_core.validation import check_quantity, clean_text

RefundRunner = Callable[[str], Awaitable[str]]

# Hot-path statements, built once (compiled and prepared once per database, not once per order).
_PRICES = (
    select(
        Sku.id,
        Sku.code,
        Sku.price,
        Sku.currency,
        Sku.options,
        Product.id.label("product_id"),
        Product.merchant_id,
        Product.name,
        Product.status,
        (StockLevel.on_hand - StockLevel.reserved).label("available"),
    )
    .join(Product, Product.id == Sku.product_id)
    .outerjoin(StockLevel, StockLevel.sku_id == Sku.id)
    .where(Sku.code.in_(bindparam("b_codes", expanding=True)))
)
_ORDER_ID_BY_KEY = select(Order.id).where(
    Order.customer_id == bindparam("b_customer"), Order.idempotency_key == bindparam("b_key")
)
#: order reads for shoppers (status, tracking, "my orders"): prebuilt, on the hot unit
_ORDER_BY_NUMBER = select(table_of(Order)).where(table_of(Order).c.number == bindparam("b_number"))
_ORDERS_OF_CUSTOMER = (
    select(table_of(Order))
    .where(table_of(Order).c.customer_id == bindparam("b_customer"))
    .order_by(table_of(Order).c.id.desc())
    .limit(bindparam("b_limit"))
)
_LINES_OF = (
    select(table_of(OrderLine))
    .where(table_of(OrderLine).c.order_id.in_(bindparam("b_orders", expanding=True)))
    .order_by(table_of(OrderLine).c.order_id, table_of(OrderLine).c.line_no)
)
_EMPTY_CART = delete(CartLine).where(CartLine.customer_id == bindparam("b_customer"))
_INSERT_LINES = insert(table_of(OrderLine)).returning(table_of(OrderLine).c.id, sort_by_parameter_order=True)


@functools.cache
def _insert_order(dialect_name: str) -> Any:
    """Insert an order unless (customer, idempotency key) exists; returns its id, or no row."""
    return insert_ignoring_conflicts(
        dialect_name, table_of(Order), "customer_id", "idempotency_key"
    ).returning(table_of(Order).c.id)


class _LostRace(Exception):
    """Another request with the same idempotency key placed the order first."""


@dataclass(frozen=True, slots=True)
class _Priced:
    sku_id: int
    sku_code: str
    price: int
    currency: str
    options: dict[str, str]
    product_id: int
    merchant_id: int
    name: dict[str, str]
    quantity: int


class OrderService:
    def __init__(
        self, uow: UnitOfWorkFactory, cipher: FieldCipher, policy: OrderPolicy | None = None
    ) -> None:
        self._uow = uow
        self._cipher = cipher
        self.policy = policy or OrderPolicy()
        self.refund_runner: RefundRunner | None = None

    # -- placement --------------------------------------------------------------------------------
    async def place(
        self,
        customer_id: int,
        address: AddressInput,
        idempotency_key: str,
        *,
        items: Sequence[LineRequest] | None = None,
        expected_total: int | None = None,
        note: str | None = None,
    ) -> OrderView:
        """Place an order from the cart (or from ``items``), reserving stock until payment is due.

        ``expected_total`` is the total the shopper confirmed; if prices moved since, the order is
        refused with ``price_changed`` rather than charging a different amount.
        """
        key = clean_text(idempotency_key, "idempotency key", max_length=128)
        clean_address = address.validated()
        clean_note = clean_text(note, "note", max_length=500, required=False) or None
        # a rare branch that needs the ORM (NeedsSession: answering a retry with its existing order)
        # reruns everything on a full unit
        try:
            return await self._place(
                self._uow().hot(), customer_id, clean_address, key, items, expected_total, clean_note
            )
        except NeedsSession:
            pass
        return await self._place(
            self._uow(), customer_id, clean_address, key, items, expected_total, clean_note
        )

    async def _place(
        self,
        unit: Work,
        customer_id: int,
        clean_address: AddressInput,
        key: str,
        items: Sequence[LineRequest] | None,
        expected_total: int | None,
        clean_note: str | None,
    ) -> OrderView:
        try:
            async with unit as uow:
                try:
                    priced = await self._price(uow, customer_id, items)
                except DomainError:
                    # a retry of a request that already succeeded finds the cart emptied by it: answer
                    # with that order instead of an error (a Core probe first: most refusals, like a flash
                    # sale's out-of-stock buyers, have no such order and never need the ORM)
                    probe = {"b_customer": customer_id, "b_key": key}
                    if (await uow.execute(_ORDER_ID_BY_KEY, probe)).first() is not None:
                        existing = await self._by_key(uow, customer_id, key)
                        if existing is not None:
                            return await self._view(uow, existing)
                    raise
                currency = priced[0].currency
                if any(p.currency != currency for p in priced):
                    raise InvalidInput("one order holds one currency", code="currency_mismatch")
                subtotal = Money(sum(p.price * p.quantity for p in priced), currency)
                fee = self.policy.fee_for(subtotal)
                total = subtotal.amount + fee
                Money(total, currency)  # validates the bound
                if expected_total is not None and expected_total != total:
                    raise NotAllowed(
                        "prices changed since you confirmed",
                        code="price_changed",
                        expected=expected_total,
                        actual=total,
                    )
                now = uow.now()
                due = now + self.policy.payment_window
                number = new_public_id(ORDER_PREFIX)
                # the unique (customer, key) decides a race between two identical requests
                try:
                    inserted = await uow.execute(
                        _insert_order(uow.dialect_name),
                        dict(
                            number=number,
                            customer_id=customer_id,
                            idempotency_key=key,
                            status=OrderStatus.PENDING_PAYMENT.value,
                            currency=currency,
                            subtotal=subtotal.amount,
                            shipping_fee=fee,
                            total=total,
                            refunded_total=0,
                            address_enc=self._cipher.encrypt_json(clean_address.to_dict()),
                            note=clean_note,
                            payment_due_at=due,
                            created_at=now,
                            updated_at=now,
                        ),
                    )
                    order_id = inserted.scalar()
                except IntegrityError as exc:  # the customer does not exist (foreign key)
                    raise NotFound("no such customer", code="customer_not_found") from exc
                if order_id is None:
                    raise _LostRace  # leaves (and rolls back) this unit before reading the winner's order
                lines = [
                    {
                        "order_id": order_id,
                        "line_no": n,
                        "sku_id": p.sku_id,
                        "product_id": p.product_id,
                        "merchant_id": p.merchant_id,
                        "sku_code": p.sku_code,
                        "product_name": p.name,
                        "options": p.options,
                        "unit_price": p.price,
                        "quantity": p.quantity,
                        "line_total": p.price * p.quantity,
                    }
                    for n, p in enumerate(priced, start=1)
                ]
                line_ids = (await uow.execute(_INSERT_LINES, lines)).scalars().all()
                if items is None:
                    await uow.write_later(_EMPTY_CART, {"b_customer": customer_id})  # this customer's rows
                # stock last: a popular SKU's row stays locked only from here to COMMIT, not for the
                # whole transaction (in a flash sale every buyer queues on that one row)
                quantities: dict[int, int] = {}
                for p in priced:
                    quantities[p.sku_id] = quantities.get(p.sku_id, 0) + p.quantity
                await inventory.reserve(
                    uow, order_id, quantities, due, now, {p.sku_id: p.sku_code for p in priced}
                )
                uow.record_status(
                    "order", order_id, None, OrderStatus.PENDING_PAYMENT.value, f"customer:{customer_id}"
                )
                uow.emit(
                    OrderPlaced(number, customer_id, total, currency, sorted({p.merchant_id for p in priced}))
                )
                await uow.commit()
        except _LostRace:
            return await self._after_race(customer_id, key)
        return OrderView(
            id=order_id,
            number=number,
            customer_id=customer_id,
            status=OrderStatus.PENDING_PAYMENT.value,
            subtotal=subtotal,
            shipping_fee=Money(fee, currency),
            total=Money(total, currency),
            refunded=Money(0, currency),
            lines=tuple(
                OrderLineView(
                    line_id,
                    n,
                    p.sku_code,
                    p.name,
                    p.options,
                    Money(p.price, currency),
                    p.quantity,
                    p.merchant_id,
                )
                for n, (line_id, p) in enumerate(zip(line_ids, priced, strict=True), start=1)
            ),
            address=clean_address,
            created_at=now,
            payment_due_at=due,
            paid_at=None,
            shipped_at=None,
            delivered_at=None,
            cancel_reason=None,
        )

    async def _after_race(self, customer_id: int, key: str) -> OrderView:
        async with self._uow() as uow:
            existing = await self._by_key(uow, customer_id, key)
            if existing is None:
                raise RuntimeError("order vanished after an idempotency conflict")
            return await self._view(uow, existing)

    @staticmethod
    async def _by_key(uow: Work, customer_id: int, key: str) -> Order | None:
        return await uow.session.scalar(
            select(Order).where(Order.customer_id == customer_id, Order.idempotency_key == key)
        )

    @staticmethod
    async def _price(uow: Work, customer_id: int, items: Sequence[LineRequest] | None) -> list[_Priced]:
        if items is None:
            cart = await load_cart(uow, customer_id)
            if cart.is_empty:
                raise InvalidInput("the cart is empty", code="cart_empty")
            if not cart.can_checkout:
                problem = next(p for p in cart.problems if p.kind != "price_changed")
                raise NotAllowed(
                    "the cart has problems to fix first",
                    code=f"cart_{problem.kind}",
                    sku=problem.sku_code,
                    available=problem.available,
                )
            items = [LineRequest(line.sku_code, line.quantity) for line in cart.lines]
        if not items:
            raise InvalidInput("an order needs at least one item", code="cart_empty")
        for item in items:
            check_quantity(item.quantity)
        codes = [item.sku_code for item in items]
        rows = {row.code: row for row in (await uow.execute(_PRICES, {"b_codes": codes})).all()}
        priced = []
        wanted: dict[str, int] = {}
        for item in items:
            wanted[item.sku_code] = wanted.get(item.sku_code, 0) + item.quantity
        for item in items:
            found = rows.get(item.sku_code)
            if found is None or found.status != ListingStatus.LIVE.value:
                raise NotFound(f"no SKU {item.sku_code!r} on sale", code="sku_not_found", sku=item.sku_code)
            available = max(0, found.available or 0)
            if available < wanted[item.sku_code]:
                # fail fast without writing: in a flash sale most buyers end here. The reservation
                # below stays the authority (this read takes no lock).
                raise OutOfStock(
                    "not enough stock",
                    sku=item.sku_code,
                    requested=wanted[item.sku_code],
                    available=available,
                )
            priced.append(
                _Priced(
                    found.id,
                    found.code,
                    found.price,
                    found.currency,
                    dict(found.options),
                    found.product_id,
                    found.merchant_id,
                    dict(found.name),
                    item.quantity,
                )
            )
        return priced

    # -- reads ------------------------------------------------------------------------------------
    async def _view(self, uow: Work, order: Order) -> OrderView:
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
        async with self._uow().hot() as uow:
            order = (await uow.execute(_ORDER_BY_NUMBER, {"b_number": normalise_public_id(number)})).first()
            if order is None or (customer_id is not None and order.customer_id != customer_id):
                raise NotFound("no such order", code="order_not_found", order=number)
            return await self._view(uow, order)

    async def _load(
        self, uow: UnitOfWork, number: str, customer_id: int | None, *, lock: bool = False
    ) -> Order:
        stmt = select(Order).where(Order.number == normalise_public_id(number))
        order = await uow.session.scalar(stmt.with_for_update() if lock else stmt)
        if order is None or (customer_id is not None and order.customer_id != customer_id):
            raise NotFound("no such order", code="order_not_found", order=number)
        return order

    async def for_customer(self, customer_id: int, *, limit: int = 10) -> list[OrderView]:
        async with self._uow().hot() as uow:
            orders = (
                await uow.execute(_ORDERS_OF_CUSTOMER, {"b_customer": customer_id, "b_limit": limit})
            ).all()
            return await self._views(uow, orders)

    async def list_recent(self, *, status: str | None = None, limit: int = 50) -> list[OrderView]:
        async with self._uow() as uow:
            stmt = select(Order).order_by(Order.id.desc()).limit(limit)
            if status:
                stmt = stmt.where(Order.status == status)
            return await self._views(uow, (await uow.session.scalars(stmt)).all())

    async def history(self, number: str) -> list[StatusChangeView]:
        async with self._uow() as uow:
            order = await self._load(uow, number, None)
            rows = (
                await uow.session.scalars(
                    select(StatusChange)
                    .where(StatusChange.entity_type == "order", StatusChange.entity_id == order.id)
                    .order_by(StatusChange.id)
                )
            ).all()
            return [StatusChangeView(r.from_status, r.to_status, r.actor, r.reason, r.at) for r in rows]

    # -- changes ----------------------------------------------------------------------------------
    async def cancel(
        self, number: str, *, actor: str, reason: str, customer_id: int | None = None
    ) -> CancelResult:
        """Cancel before shipping; unpaid orders release stock, paid ones restock and refund in full."""
        reason = clean_text(reason, "reason", max_length=200)
        async with self._uow() as uow:
            order = await self._load(uow, number, customer_id, lock=True)
            status = OrderStatus(order.status)
            if status not in CANCELLABLE:
                raise NotAllowed(
                    "this order can no longer be cancelled", code="order_not_cancellable", status=order.status
                )
            refund_id = None
            if status is OrderStatus.PENDING_PAYMENT:
                await inventory.release(uow, order.id)
            else:
                lines = (
                    await uow.session.execute(
                        select(OrderLine.sku_id, OrderLine.quantity).where(OrderLine.order_id == order.id)
                    )
                ).all()
                quantities: dict[int, int] = {}
                for sku_id, quantity in lines:
                    quantities[sku_id] = quantities.get(sku_id, 0) + quantity
                await inventory.restock(uow, quantities)
                refund = await request_refund(
                    uow, order, order.total - order.refunded_total, "order_cancelled"
                )
                refund_id = refund.public_id if refund else None
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

    async def change_address(self, number: str, customer_id: int, address: AddressInput) -> OrderView:
        clean = address.validated()
        async with self._uow() as uow:
            order = await self._load(uow, number, customer_id, lock=True)
            if OrderStatus(order.status) not in CANCELLABLE:
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
        async with self._uow() as uow:
            order = await self._load(uow, number, customer_id, lock=True)
            transitions.move(uow, order, OrderStatus.COMPLETED, actor=actor)
            view = await self._view(uow, order)
            await uow.commit()
            return view

    async def expire_unpaid(self, now: datetime | None = None, *, batch: int = 200) -> list[str]:
        """Cancel orders whose payment window passed and release their stock; returns their numbers."""
        expired: list[str] = []
        async with self._uow() as uow:
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
            async with self._uow() as uow:
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
