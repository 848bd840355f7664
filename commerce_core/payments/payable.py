"""Can this order still be paid, for this amount and currency? Asked just before money moves.

Why in the core: a platform that asks before charging (Telegram's pre-checkout query must be
answered within 10 s) used to re-derive these rules at the edge, finding products by splitting SKU
codes. The rules belong with the order and the catalogue; the edge only words the answer.

The answer is a :class:`~commerce_core.payments.types.PayableProblem` (data with a code) or None.
Capture stays the authority: a notification for an order that is no longer payable is still
handled safely (refunded when the order was cancelled), this check only spares the shopper a charge
that would be refused or refunded.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select

from commerce_core.catalog.model import Product, Sku
from commerce_core.catalog.types import ListingStatus
from commerce_core.ids import normalise_public_id
from commerce_core.merchants.visibility import effective_listing_status
from commerce_core.orders.model import Order, OrderLine
from commerce_core.orders.types import OrderStatus
from commerce_core.payments.types import PayableProblem, PayableProblemKind
from commerce_core.uow import Work

_ORDER_TO_PAY = select(Order.id, Order.status, Order.total, Order.currency, Order.payment_due_at).where(
    Order.number == bindparam("b_number")
)
#: each line's price when ordered beside its SKU's price and listing status now (outer joins: a SKU
#: that no longer exists is not re-checked; the order's reservation holds its stock)
_LINES_NOW = (
    select(
        OrderLine.sku_code,
        OrderLine.product_name,
        OrderLine.unit_price,
        Sku.price.label("price_now"),
        effective_listing_status(Product.status, Product.merchant_id).label("listing_status"),
    )
    .outerjoin(Sku, Sku.id == OrderLine.sku_id)
    .outerjoin(Product, Product.id == Sku.product_id)
    .where(OrderLine.order_id == bindparam("b_order"))
    .order_by(OrderLine.line_no)
)


async def check_payable(uow: Work, order_number: str, amount: int, currency: str) -> PayableProblem | None:
    """None when ``amount`` ``currency`` may be taken for the order now; otherwise the first problem,
    checked in the order a shopper would want to hear them: the order, its deadline, the amount, and
    then each line (delisted product, changed price)."""
    number = normalise_public_id(order_number)
    order = (await uow.execute(_ORDER_TO_PAY, {"b_number": number})).first()
    if order is None:
        return PayableProblem(PayableProblemKind.UNKNOWN_ORDER, number)
    if order.status != OrderStatus.PENDING_PAYMENT.value:
        return PayableProblem(PayableProblemKind.NOT_PAYABLE, number, order_status=order.status)
    if order.payment_due_at <= uow.now():
        return PayableProblem(PayableProblemKind.EXPIRED, number, order_status=order.status)
    if order.total != amount or order.currency != currency:
        return PayableProblem(PayableProblemKind.AMOUNT_CHANGED, number, order_status=order.status)
    for line in (await uow.execute(_LINES_NOW, {"b_order": order.id})).all():
        if line.listing_status is None:
            continue
        if line.listing_status != ListingStatus.LIVE.value:
            kind = PayableProblemKind.UNAVAILABLE
        elif line.price_now != line.unit_price:
            kind = PayableProblemKind.PRICE_CHANGED
        else:
            continue
        return PayableProblem(kind, number, order.status, line.sku_code, dict(line.product_name))
    return None
