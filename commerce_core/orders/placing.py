"""Placing an order from the cart (or given lines): idempotent, priced, stock reserved, one transaction.

The same idempotency key from the same customer always yields the same order, even when two
requests race (the unique key decides). Everything runs on the hot unit, rare branches included: a
retry that finds its cart already emptied is answered from the existing order's rows.

Steps of :meth:`OrderPlacing._place`, in the order they touch the database: price the lines (the
cart's own read, or the SKUs', with stock on hand; most refusals end here without writing), total
them, insert the order (the unique key decides a race), insert its lines, reserve stock last (a
popular SKU's row stays locked only from there to COMMIT), empty the cart (with the commit),
record, announce, commit. On PostgreSQL the order, its lines and a one-SKU order's reservation are
one statement (:mod:`commerce_core.orders.one_trip`): 5 round trips from the cart to COMMIT. An order
to a saved address (``address`` given as its id) copies it in that statement too, not read before.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.exc import IntegrityError

from commerce_core.cart.model import CartLine
from commerce_core.cart.service import load_cart_rows
from commerce_core.cart.types import CartView
from commerce_core.catalog.model import Product, Sku
from commerce_core.catalog.types import ListingStatus
from commerce_core.customers.model import Address
from commerce_core.customers.types import AddressInput
from commerce_core.db.base import table_of
from commerce_core.db.dialect import insert_ignoring_conflicts
from commerce_core.errors import DomainError, InvalidInput, NotAllowed, NotFound, OutOfStock
from commerce_core.events import OrderPlaced
from commerce_core.ids import ORDER_PREFIX, new_public_id
from commerce_core.inventory import service as inventory
from commerce_core.inventory.model import StockLevel
from commerce_core.merchants.visibility import effective_listing_status
from commerce_core.money import Money
from commerce_core.orders import one_trip
from commerce_core.orders.model import Order, OrderLine
from commerce_core.orders.queries import OrderQueries
from commerce_core.orders.types import LineRequest, OrderLineView, OrderPolicy, OrderStatus, OrderView
from commerce_core.uow import Work
from commerce_core.validation import check_quantity, clean_text

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
        effective_listing_status(Product.status, Product.merchant_id).label("status"),
        (StockLevel.on_hand - StockLevel.reserved).label("available"),
    )
    .join(Product, Product.id == Sku.product_id)
    .outerjoin(StockLevel, StockLevel.sku_id == Sku.id)
    .where(Sku.code.in_(bindparam("b_codes", expanding=True)))
)
_ORDER_BY_KEY = select(table_of(Order)).where(
    table_of(Order).c.customer_id == bindparam("b_customer"),
    table_of(Order).c.idempotency_key == bindparam("b_key"),
)
_SAVED_ADDRESS = select(Address.payload_enc).where(
    Address.id == bindparam("b_address"), Address.customer_id == bindparam("b_customer")
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


@dataclass(frozen=True, slots=True)
class _Request:
    """A placement as the shopper asked for it, already validated."""

    customer_id: int
    address: AddressInput | int  # or the id of one of the customer's saved addresses
    key: str
    items: Sequence[LineRequest] | None
    expected_total: int | None
    note: str | None


@dataclass(frozen=True, slots=True)
class _Totals:
    currency: str
    subtotal: int
    fee: int
    total: int


class OrderPlacing(OrderQueries):
    """The placement side of :class:`~commerce_core.orders.service.OrderService`."""

    policy: OrderPolicy

    async def place(
        self,
        customer_id: int,
        address: AddressInput | int,
        idempotency_key: str,
        *,
        items: Sequence[LineRequest] | None = None,
        expected_total: int | None = None,
        note: str | None = None,
    ) -> OrderView:
        """Place an order from the cart (or from ``items``), reserving stock until payment is due.

        ``expected_total`` is the total the shopper confirmed; if prices moved since, the order is
        refused with ``price_changed`` rather than charging a different amount. ``address`` may be
        the id of one of the customer's saved addresses (``address_not_found`` if it is not one): on
        PostgreSQL it is copied into the order by the order's own INSERT, one round trip less than
        reading it first.
        """
        request = _Request(
            customer_id,
            address.validated() if isinstance(address, AddressInput) else address,
            clean_text(idempotency_key, "idempotency key", max_length=128),
            items,
            expected_total,
            clean_text(note, "note", max_length=500, required=False) or None,
        )
        try:
            return await self._place(request)
        except _LostRace:
            return await self._after_race(request)

    async def _place(self, request: _Request) -> OrderView:
        async with self._units.hot() as uow:
            try:
                priced = await self._price(uow, request.customer_id, request.items)
            except DomainError:
                existing = await self._existing(uow, request)
                if existing is not None:
                    return existing
                raise
            totals = self._totals(priced, request.expected_total)
            if isinstance(request.address, int) and uow.dialect_name != "postgresql":
                request = dataclasses.replace(request, address=await self._saved(uow, request))
            address = request.address
            now = uow.now()
            due = now + self.policy.payment_window
            number = new_public_id(ORDER_PREFIX)
            values = self._order_values(request, number, totals, now, due)
            if uow.dialect_name == "postgresql":
                order_id, line_ids, address = await self._insert_in_one_trip(
                    uow, values, priced, due, now, request.address
                )
            else:
                order_id = await self._insert_order(uow, values)
                line_ids = await self._insert_lines(uow, order_id, priced)
                await self._reserve(uow, order_id, priced, due, now)
            if request.items is None:
                # only this customer's rows, which nothing later in the unit reads
                await uow.write_later(_EMPTY_CART, {"b_customer": request.customer_id})
            uow.record_status(
                "order", order_id, None, OrderStatus.PENDING_PAYMENT.value, f"customer:{request.customer_id}"
            )
            uow.emit(
                OrderPlaced(
                    number,
                    request.customer_id,
                    totals.total,
                    totals.currency,
                    sorted({p.merchant_id for p in priced}),
                )
            )
            await uow.commit()
        if not isinstance(address, AddressInput):  # not reached: both branches above resolve it
            raise NotFound("no such address", code="address_not_found")
        return self._placed_view(request, address, order_id, number, totals, priced, line_ids, now, due)

    async def _existing(self, uow: Work, request: _Request) -> OrderView | None:
        """A retry of a request that already succeeded finds the cart emptied by it: answer with that
        order instead of an error (one column read; most refusals, like a flash sale's out-of-stock
        buyers, have no such order)."""
        probe = {"b_customer": request.customer_id, "b_key": request.key}
        row = (await uow.execute(_ORDER_BY_KEY, probe)).first()
        return None if row is None else await self._view(uow, row)

    async def _saved(self, uow: Work, request: _Request) -> AddressInput:
        """The saved address an order names by id (where the order's INSERT does not copy it)."""
        probe = {"b_address": request.address, "b_customer": request.customer_id}
        payload = (await uow.execute(_SAVED_ADDRESS, probe)).scalar()
        if payload is None:
            raise NotFound("no such address", code="address_not_found")
        return self._address(payload)

    def _address(self, payload: str) -> AddressInput:
        return AddressInput.from_dict(self._cipher.decrypt_json(payload))

    async def _after_race(self, request: _Request) -> OrderView:
        async with self._units.hot() as uow:
            existing = await self._existing(uow, request)
        if existing is None:
            raise RuntimeError("order vanished after an idempotency conflict")
        return existing

    def _totals(self, priced: list[_Priced], expected_total: int | None) -> _Totals:
        """One currency, the policy's fee, and the total the shopper confirmed (if they did)."""
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
        return _Totals(currency, subtotal.amount, fee, total)

    def _order_values(
        self, request: _Request, number: str, totals: _Totals, now: datetime, due: datetime
    ) -> dict[str, Any]:
        return dict(
            number=number,
            customer_id=request.customer_id,
            idempotency_key=request.key,
            status=OrderStatus.PENDING_PAYMENT.value,
            currency=totals.currency,
            subtotal=totals.subtotal,
            shipping_fee=totals.fee,
            total=totals.total,
            refunded_total=0,
            address_enc=(
                self._cipher.encrypt_json(request.address.to_dict())
                if isinstance(request.address, AddressInput)
                else None  # a saved address: the INSERT copies it (PostgreSQL only)
            ),
            note=request.note,
            payment_due_at=due,
            created_at=now,
            updated_at=now,
        )

    @staticmethod
    async def _insert_order(uow: Work, values: dict[str, Any]) -> int:
        """The order row; the unique (customer, key) decides a race between two identical requests."""
        try:
            order_id: int | None = (await uow.execute(_insert_order(uow.dialect_name), values)).scalar()
        except IntegrityError as exc:  # the customer does not exist (foreign key)
            raise NotFound("no such customer", code="customer_not_found") from exc
        if order_id is None:
            raise _LostRace  # leaves (and rolls back) this unit before reading the winner's order
        return order_id

    async def _insert_in_one_trip(
        self,
        uow: Work,
        values: dict[str, Any],
        priced: list[_Priced],
        due: datetime,
        now: datetime,
        address: AddressInput | int,
    ) -> tuple[int, list[int], AddressInput]:
        """PostgreSQL: :meth:`_insert_order`, :meth:`_insert_lines` and, for an order of one SKU,
        :meth:`_reserve` in one statement (:mod:`commerce_core.orders.one_trip`); with a saved
        address's id, the address copied too (and returned, decrypted, for the order's view)."""
        quantities = _quantities(priced)
        single = next(iter(quantities.items())) if len(quantities) == 1 else None
        saved = None if isinstance(address, AddressInput) else address
        try:
            placed = await one_trip.insert_order(uow, values, _line_values(priced), single, saved)
        except IntegrityError as exc:
            if saved is not None and getattr(exc.orig, "sqlstate", None) == one_trip.MISSING_ADDRESS:
                raise NotFound("no such address", code="address_not_found") from exc
            raise NotFound("no such customer", code="customer_not_found") from exc  # foreign key
        if placed is None:
            raise _LostRace
        order_id, line_ids, held, copied = placed
        codes = {p.sku_id: p.sku_code for p in priced}
        if single is None:
            await inventory.reserve(uow, order_id, quantities, due, now, codes)
        elif not held:
            await inventory.refuse(uow, single[0], single[1], codes[single[0]])
        else:
            await inventory.record_reservations(uow, order_id, quantities, due, now)
        if isinstance(address, AddressInput):
            return order_id, line_ids, address
        if copied is None:  # not reached: the column is NOT NULL (see one_trip.MISSING_ADDRESS)
            raise NotFound("no such address", code="address_not_found")
        return order_id, line_ids, self._address(copied)

    @staticmethod
    async def _insert_lines(uow: Work, order_id: int, priced: list[_Priced]) -> list[int]:
        lines = [{"order_id": order_id, **line} for line in _line_values(priced)]
        return list((await uow.execute(_INSERT_LINES, lines)).scalars().all())

    @staticmethod
    async def _reserve(uow: Work, order_id: int, priced: list[_Priced], due: datetime, now: datetime) -> None:
        """Stock last: in a flash sale every buyer queues on one SKU's row, so it is locked only from
        here to COMMIT, not for the whole transaction."""
        codes = {p.sku_id: p.sku_code for p in priced}
        await inventory.reserve(uow, order_id, _quantities(priced), due, now, codes)

    @staticmethod
    def _placed_view(
        request: _Request,
        address: AddressInput,
        order_id: int,
        number: str,
        totals: _Totals,
        priced: list[_Priced],
        line_ids: list[int],
        now: datetime,
        due: datetime,
    ) -> OrderView:
        """The new order's view from what placing it already knows (no read back)."""
        currency = totals.currency
        return OrderView(
            id=order_id,
            number=number,
            customer_id=request.customer_id,
            status=OrderStatus.PENDING_PAYMENT.value,
            subtotal=Money(totals.subtotal, currency),
            shipping_fee=Money(totals.fee, currency),
            total=Money(totals.total, currency),
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
            address=address,
            created_at=now,
            payment_due_at=due,
            paid_at=None,
            shipped_at=None,
            delivered_at=None,
            cancel_reason=None,
        )

    @staticmethod
    async def _price(uow: Work, customer_id: int, items: Sequence[LineRequest] | None) -> list[_Priced]:
        """The lines to order (the cart's unless ``items`` are given) with today's prices; refuses
        unknown SKUs and, without writing, lines with too little stock (the reservation stays the
        authority: this read takes no lock). The cart's own read carries prices and stock, so
        ordering the cart reads once."""
        if items is None:
            cart, cart_rows = await load_cart_rows(uow, customer_id)
            items = _cart_items(cart)
            for item in items:
                check_quantity(item.quantity)
            return _priced(items, {row.code: row for row in cart_rows}, _cart_available)
        if not items:
            raise InvalidInput("an order needs at least one item", code="cart_empty")
        for item in items:
            check_quantity(item.quantity)
        codes = [item.sku_code for item in items]
        rows = {row.code: row for row in (await uow.execute(_PRICES, {"b_codes": codes})).all()}
        return _priced(items, rows, _price_available)


def _quantities(priced: list[_Priced]) -> dict[int, int]:
    """SKU id -> units over the order's lines."""
    quantities: dict[int, int] = {}
    for p in priced:
        quantities[p.sku_id] = quantities.get(p.sku_id, 0) + p.quantity
    return quantities


def _line_values(priced: list[_Priced]) -> list[dict[str, Any]]:
    """The order's line rows (all columns but ``order_id``), numbered from 1."""
    return [
        {
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


def _cart_available(row: Any) -> int | None:
    return None if row.on_hand is None else row.on_hand - (row.reserved or 0)


def _price_available(row: Any) -> int | None:
    available: int | None = row.available
    return available


def _priced(
    items: Sequence[LineRequest], rows: dict[str, Any], available_of: Callable[[Any], int | None]
) -> list[_Priced]:
    """``items`` priced from ``rows`` (by SKU code: id, code, price, currency, options, product_id,
    merchant_id, name, listing status, and the stock ``available_of`` reads)."""
    wanted: dict[str, int] = {}
    for item in items:
        wanted[item.sku_code] = wanted.get(item.sku_code, 0) + item.quantity
    priced = []
    for item in items:
        found = rows.get(item.sku_code)
        if found is None or found.status != ListingStatus.LIVE.value:
            raise NotFound(f"no SKU {item.sku_code!r} on sale", code="sku_not_found", sku=item.sku_code)
        available = max(0, available_of(found) or 0)
        if available < wanted[item.sku_code]:
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


def _cart_items(cart: CartView) -> list[LineRequest]:
    """The cart's lines, if it can be checked out (problems other than a changed price block it)."""
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
    return [LineRequest(line.sku_code, line.quantity) for line in cart.lines]
