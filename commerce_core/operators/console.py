"""What a merchant user reads in the console: its own products and its own share of orders.

Why scoped here and not at the edge: every query takes the caller's merchant id and filters by it, so
a page that forgets a check still cannot show another merchant's data. Another merchant's product or
order is "not found", exactly like one that does not exist, so ids reveal nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import column, func, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from commerce_core.catalog.model import Product, Sku
from commerce_core.errors import InvalidInput, NotFound
from commerce_core.ids import normalise_public_id
from commerce_core.inventory.model import StockLevel
from commerce_core.money import Money
from commerce_core.operators.types import MerchantOrderLineView, MerchantOrderView, MerchantProductView
from commerce_core.orders.model import Order, OrderLine
from commerce_core.orders.parts import OrderPartCancellation

#: the two columns of shipments the console reads (shipments depend on operators' neighbours, not here)
_PARCELS = table("shipments", column("order_id"), column("merchant_id"))

MAX_CONSOLE_PAGE = 200


def _check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_CONSOLE_PAGE or offset < 0:
        raise InvalidInput("page out of range", code="invalid_page", maximum=MAX_CONSOLE_PAGE)


async def _product_views(session: AsyncSession, products: Sequence[Product]) -> list[MerchantProductView]:
    if not products:
        return []
    stock = (
        await session.execute(
            select(
                Sku.product_id,
                func.count(Sku.id),
                func.coalesce(func.sum(StockLevel.on_hand), 0),
                func.coalesce(func.sum(StockLevel.reserved), 0),
            )
            .outerjoin(StockLevel, StockLevel.sku_id == Sku.id)
            .where(Sku.product_id.in_([p.id for p in products]))
            .group_by(Sku.product_id)
        )
    ).all()
    by_product = {row[0]: (int(row[1]), int(row[2]), int(row[3])) for row in stock}
    views = []
    for p in products:
        skus, on_hand, reserved = by_product.get(p.id, (0, 0, 0))
        views.append(
            MerchantProductView(
                code=p.code,
                name=dict(p.name),
                status=p.status,
                status_reason=p.status_reason,
                min_price=Money(p.min_price, p.currency),
                max_price=Money(p.max_price, p.currency),
                stock_on_hand=on_hand,
                stock_reserved=reserved,
                sku_count=skus,
                updated_at=p.updated_at,
            )
        )
    return views


async def merchant_products(
    session: AsyncSession, merchant_id: int, *, limit: int = 100, offset: int = 0
) -> list[MerchantProductView]:
    """The merchant's products in every status, newest change first."""
    _check_page(limit, offset)
    products = (
        await session.scalars(
            select(Product)
            .where(Product.merchant_id == merchant_id)
            .order_by(Product.updated_at.desc(), Product.id.desc())
            .limit(limit)
            .offset(offset)
        )
    ).all()
    return await _product_views(session, products)


async def merchant_product(session: AsyncSession, merchant_id: int, code: str) -> MerchantProductView:
    product = await session.scalar(
        select(Product).where(Product.code == (code or "").strip(), Product.merchant_id == merchant_id)
    )
    if product is None:
        raise NotFound("no such product", code="product_not_found")
    return (await _product_views(session, [product]))[0]


async def _order_views(
    session: AsyncSession, merchant_id: int, orders: Sequence[Order]
) -> list[MerchantOrderView]:
    if not orders:
        return []
    lines = await session.scalars(
        select(OrderLine)
        .where(OrderLine.order_id.in_([o.id for o in orders]), OrderLine.merchant_id == merchant_id)
        .order_by(OrderLine.order_id, OrderLine.line_no)
    )
    by_order: dict[int, list[OrderLine]] = defaultdict(list)
    for line in lines:
        by_order[line.order_id].append(line)
    order_ids = [o.id for o in orders]
    cancelled = dict(
        (
            await session.execute(
                select(OrderPartCancellation.order_id, OrderPartCancellation.reason).where(
                    OrderPartCancellation.order_id.in_(order_ids),
                    OrderPartCancellation.merchant_id == merchant_id,
                )
            )
        ).all()
    )
    parcels = await session.execute(
        select(_PARCELS.c.order_id, _PARCELS.c.merchant_id).where(_PARCELS.c.order_id.in_(order_ids))
    )
    shipped = {order_id for order_id, by in parcels.all() if by in (merchant_id, None)}
    views = []
    for order in orders:
        mine = by_order[order.id]
        views.append(
            MerchantOrderView(
                number=order.number,
                status=order.status,
                placed_at=order.created_at,
                paid_at=order.paid_at,
                shipped_at=order.shipped_at,
                lines=tuple(
                    MerchantOrderLineView(
                        sku_code=line.sku_code,
                        product_name=dict(line.product_name),
                        options={str(k): str(v) for k, v in line.options.items()},
                        unit_price=Money(line.unit_price, order.currency),
                        quantity=line.quantity,
                        line_total=Money(line.line_total, order.currency),
                    )
                    for line in mine
                ),
                total=Money(sum(line.line_total for line in mine), order.currency),
                part_cancelled=cancelled.get(order.id),
                part_shipped=order.id in shipped,
            )
        )
    return views


#: the views of orders as one merchant sees them (the console's other order tools build on it)
order_views = _order_views


async def merchant_order(session: AsyncSession, merchant_id: int, number: str) -> MerchantOrderView:
    order = await session.scalar(
        select(Order).where(
            Order.number == normalise_public_id(number or ""),
            Order.id.in_(select(OrderLine.order_id).where(OrderLine.merchant_id == merchant_id)),
        )
    )
    if order is None:
        raise NotFound("no such order", code="order_not_found")
    return (await _order_views(session, merchant_id, [order]))[0]
