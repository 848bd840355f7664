"""The cart: add, change quantity, remove, and a view whose problems are data, not exceptions.

Problems (a SKU out of stock, fewer units than wanted, a changed price, a delisted product) are
returned with the view, so the dialog can explain them and the shopper can fix them before checkout.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Select, bindparam, delete, exists, insert, select, true, update

from commerce_core.cart.model import CartLine
from commerce_core.cart.types import CartLineView, CartProblem, CartView, ProblemKind
from commerce_core.catalog.model import Product, Sku
from commerce_core.catalog.types import ListingStatus
from commerce_core.customers.model import Customer
from commerce_core.errors import InvalidInput, NotFound
from commerce_core.inventory.model import StockLevel
from commerce_core.merchants.visibility import effective_listing_status
from commerce_core.money import Money
from commerce_core.uow import Units, Work
from commerce_core.validation import MAX_QUANTITY_PER_LINE, check_quantity

MAX_CART_LINES = 50


#: a customer's cart with what decides its problems; columns, not entities, so it runs on any unit
#: of work (checkout reads the cart on the connection-level PostgreSQL unit), and is built once; it
#: also carries what an order line needs (product, merchant), so placing an order prices the cart
#: from this one read (:func:`load_cart_rows`)
_CART = (
    select(
        CartLine.quantity,
        CartLine.price_seen,
        CartLine.currency.label("seen_currency"),
        Sku.id,
        Sku.code,
        Sku.options,
        Sku.price,
        Sku.currency,
        Product.code.label("product_code"),
        Product.id.label("product_id"),
        Product.merchant_id,
        Product.name,
        Product.images,
        effective_listing_status(Product.status, Product.merchant_id).label("status"),
        StockLevel.on_hand,
        StockLevel.reserved,
    )
    .join(Sku, Sku.id == CartLine.sku_id)
    .join(Product, Product.id == Sku.product_id)
    .outerjoin(StockLevel, StockLevel.sku_id == Sku.id)
    .where(CartLine.customer_id == bindparam("b_customer"))
    .order_by(CartLine.id)
)


#: the SKU to add, whether it is on sale, and whether the customer exists: one read
_SKU_FOR_CART = (
    select(
        Sku.id,
        Sku.price,
        Sku.currency,
        effective_listing_status(Product.status, Product.merchant_id).label("status"),
        exists().where(Customer.id == bindparam("b_customer")).label("customer_exists"),
    )
    .join(Product, Product.id == Sku.product_id)
    .where(Sku.code == bindparam("b_code"))
)
_CART_LINES_LOCKED = (
    select(CartLine.id, CartLine.sku_id, CartLine.quantity, CartLine.currency)
    .where(CartLine.customer_id == bindparam("b_customer"))
    .with_for_update()
)
_INSERT_LINE = insert(CartLine)
_UPDATE_LINE = (
    update(CartLine)
    .where(CartLine.id == bindparam("b_line"))
    .values(quantity=bindparam("b_quantity"), price_seen=bindparam("b_price"))
)


#: the columns of a cart row :func:`_view` reads (the SKU's own columns, then the line's)
_SKU_COLUMNS = (
    "id",
    "code",
    "options",
    "price",
    "currency",
    "product_code",
    "name",
    "images",
    "status",
    "on_hand",
    "reserved",
)


def _add_read() -> Select[Any]:
    """PostgreSQL, for adding to the cart: the SKU (as :data:`_SKU_FOR_CART` reads it, plus what its
    cart line shows) beside the customer's cart (as :data:`_CART` reads it), whose lines are locked
    as :data:`_CART_LINES_LOCKED` locks them; one row per line, or one row of the SKU alone; no row
    for an unknown SKU. Why: one read instead of three (SKU, lock, the cart again after writing),
    and the cart's view is the rows read here with the write applied (:func:`_after_adding`)."""
    target = (
        select(
            *(c for c in _CART.selected_columns if c.key in _SKU_COLUMNS),
            exists().where(Customer.id == bindparam("b_customer")).label("customer_exists"),
        )
        .join(Product, Product.id == Sku.product_id)
        .outerjoin(StockLevel, StockLevel.sku_id == Sku.id)
        .where(Sku.code == bindparam("b_code"))
        .cte("target")
    )
    locked = _CART.add_columns(CartLine.id.label("line_id")).with_for_update(of=CartLine).cte("locked")
    return (
        select(
            *(c.label(f"t_{c.key}") for c in target.c),
            *(c.label(f"c_{c.key}") for c in locked.c),
        )
        .select_from(target.outerjoin(locked, true()))
        .order_by(locked.c.line_id)
    )


_ADD_READ = _add_read()


async def _read_locked(
    uow: Work, customer_id: int, sku_code: str
) -> tuple[Any, list[Any], list[SimpleNamespace]]:
    """(the SKU or None, the cart's lines locked, the cart's rows) in one statement (:func:`_add_read`)."""
    rows = (await uow.execute(_ADD_READ, {"b_code": sku_code, "b_customer": customer_id})).all()
    if not rows:
        return None, [], []
    first = rows[0]
    sku = SimpleNamespace(**{name[2:]: value for name, value in first._asdict().items() if name[:2] == "t_"})
    cart = [
        SimpleNamespace(**{name[2:]: value for name, value in row._asdict().items() if name[:2] == "c_"})
        for row in rows
        if row.c_line_id is not None
    ]
    lines = [
        SimpleNamespace(id=r.line_id, sku_id=r.id, quantity=r.quantity, currency=r.seen_currency)
        for r in cart
    ]
    return sku, lines, cart


def _after_adding(cart: list[SimpleNamespace], sku: Any, quantity: int) -> list[SimpleNamespace]:
    """The cart's rows once the SKU's line holds ``quantity`` units at its current price (as
    :meth:`CartService.add` writes it; a new line comes last, as its new id orders it)."""
    line = next((row for row in cart if row.id == sku.id), None)
    if line is not None:
        line.quantity, line.price_seen = quantity, sku.price
        return cart
    values = {name: getattr(sku, name) for name in _SKU_COLUMNS}
    added = SimpleNamespace(**values, quantity=quantity, price_seen=sku.price, seen_currency=sku.currency)
    return [*cart, added]


async def load_cart(uow: Work, customer_id: int) -> CartView:
    return (await load_cart_rows(uow, customer_id))[0]


async def load_cart_rows(uow: Work, customer_id: int) -> tuple[CartView, Sequence[Any]]:
    """The cart's view and the rows it was built from (one per line, in cart order: SKU ``id``,
    ``code``, ``price``, ``currency``, ``options``, ``product_id``, ``merchant_id``, ``name``,
    ``status``, ``on_hand``, ``reserved``, ``quantity``), read in one statement."""
    rows = (await uow.execute(_CART, {"b_customer": customer_id})).all()
    return _view(rows), rows


def _view(rows: Sequence[Any]) -> CartView:
    lines, problems = [], []
    for row in rows:
        available = max(0, (row.on_hand or 0) - (row.reserved or 0))
        lines.append(
            CartLineView(
                row.id,
                row.code,
                row.product_code,
                dict(row.name),
                dict(row.options),
                row.quantity,
                Money(row.price, row.currency),
                available,
                row.images[0] if row.images else None,
            )
        )
        if row.status != ListingStatus.LIVE.value:
            problems.append(CartProblem(ProblemKind.DELISTED, row.code))
        elif available == 0:
            problems.append(CartProblem(ProblemKind.OUT_OF_STOCK, row.code))
        elif available < row.quantity:
            problems.append(CartProblem(ProblemKind.INSUFFICIENT_STOCK, row.code, available=available))
        if row.price_seen != row.price:
            problems.append(
                CartProblem(
                    ProblemKind.PRICE_CHANGED,
                    row.code,
                    available=available,
                    old_price=Money(row.price_seen, row.seen_currency),
                    new_price=Money(row.price, row.currency),
                )
            )
    return CartView(tuple(lines), tuple(problems))


class CartService:
    def __init__(self, units: Units) -> None:
        self._units = units

    async def view(self, customer_id: int) -> CartView:
        async with self._units.hot() as uow:
            return await load_cart(uow, customer_id)

    async def add(self, customer_id: int, sku_code: str, quantity: int = 1) -> CartView:
        """Add units of a live SKU (adding again adds up); shortages come back as problems.

        Prebuilt column statements on the hot unit: adding is the most frequent write of a shopping
        conversation. On PostgreSQL the SKU, the locked cart and its rows are one read and the
        answer is those rows with the write applied (4 round trips, BEGIN and COMMIT included,
        instead of 6)."""
        check_quantity(quantity)
        async with self._units.hot() as uow:
            one_read = uow.dialect_name == "postgresql"
            lines: Sequence[Any]
            if one_read:  # the SKU, the locked lines and the cart's rows: one statement
                sku, lines, cart_rows = await _read_locked(uow, customer_id, sku_code)
            else:
                lookup = {"b_code": sku_code, "b_customer": customer_id}
                sku = (await uow.execute(_SKU_FOR_CART, lookup)).first()
            if sku is None or sku.status != ListingStatus.LIVE.value:
                raise NotFound(f"no SKU {sku_code!r} on sale", code="sku_not_found", sku=sku_code)
            if not sku.customer_exists:
                raise NotFound("no such customer", code="customer_not_found")
            if not one_read:
                # the whole cart in one read (it is small): this SKU's line, the currency, the line count
                lines = (await uow.execute(_CART_LINES_LOCKED, {"b_customer": customer_id})).all()
            line = next((existing for existing in lines if existing.sku_id == sku.id), None)
            currencies = {existing.currency for existing in lines}
            if currencies and sku.currency not in currencies:
                raise InvalidInput("one cart holds one currency", code="currency_mismatch")
            if line is None:
                if len(lines) >= MAX_CART_LINES:
                    raise InvalidInput("the cart is full", code="cart_full", maximum=MAX_CART_LINES)
                total = quantity
                await uow.execute(
                    _INSERT_LINE,
                    {
                        "customer_id": customer_id,
                        "sku_id": sku.id,
                        "quantity": quantity,
                        "price_seen": sku.price,
                        "currency": sku.currency,
                        "added_at": uow.now(),
                    },
                )
            else:
                total = check_quantity(min(line.quantity + quantity, MAX_QUANTITY_PER_LINE + 1))
                await uow.execute(
                    _UPDATE_LINE, {"b_line": line.id, "b_quantity": total, "b_price": sku.price}
                )
            if one_read:  # the cart as written, from the rows read above
                view = _view(_after_adding(cart_rows, sku, total))
            else:
                view = await load_cart(uow, customer_id)
            await uow.commit()
            return view

    async def set_quantity(self, customer_id: int, sku_code: str, quantity: int) -> CartView:
        """Change a line's quantity; 0 removes it."""
        check_quantity(quantity, allow_zero=True)
        async with self._units.orm() as uow:
            sku_id = await uow.session.scalar(select(Sku.id).where(Sku.code == sku_code))
            line = (
                None
                if sku_id is None
                else await uow.session.scalar(
                    select(CartLine).where(CartLine.customer_id == customer_id, CartLine.sku_id == sku_id)
                )
            )
            if line is None:
                raise NotFound("that item is not in the cart", code="cart_line_not_found", sku=sku_code)
            if quantity == 0:
                await uow.session.delete(line)
            else:
                line.quantity = quantity
            await uow.flush()
            view = await load_cart(uow, customer_id)
            await uow.commit()
            return view

    async def remove(self, customer_id: int, sku_code: str) -> CartView:
        return await self.set_quantity(customer_id, sku_code, 0)

    async def clear(self, customer_id: int) -> None:
        async with self._units.orm() as uow:
            await uow.session.execute(delete(CartLine).where(CartLine.customer_id == customer_id))
            await uow.commit()

    async def accept_prices(self, customer_id: int) -> CartView:
        """The shopper saw the new prices: stop reporting them as changed."""
        async with self._units.orm() as uow:
            rows = (
                await uow.session.execute(
                    select(CartLine, Sku.price)
                    .join(Sku, Sku.id == CartLine.sku_id)
                    .where(CartLine.customer_id == customer_id)
                )
            ).all()
            for line, price in rows:
                line.price_seen = price
            await uow.flush()
            view = await load_cart(uow, customer_id)
            await uow.commit()
            return view
