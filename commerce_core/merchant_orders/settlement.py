"""The settlement statement of one merchant for one period (R4.4): paid orders, refunds, the
platform's fee, what the platform owes the merchant.

Rules, so the numbers can be checked by hand:

* **Paid orders**: orders with a line of this merchant whose payment was captured in the period
  (``paid_at``); the merchant's *goods* are its line totals. The shipping fee is not the merchant's.
* **Refunds**: refunds paid back in the period (``completed_at``) on those merchants' orders, as far
  as they were this merchant's goods: the merchant's own part cancellation counts its goods exactly;
  an after-sales refund is shared by the value of the case's items per merchant; any other refund
  (the shopper cancelled the whole order) by the value of each merchant's lines in the order.
  Shares are rounded half up to the minor unit.
* **Fee**: ``fee_percent`` of ``gross - refunds`` when that is positive, rounded half up.
* **Payable**: ``gross - refunds - fee``; a period whose refunds exceed its sales pays nothing and
  carries the difference to the next statement.

Money is integers of minor units throughout; the only division is in :func:`share` and
:func:`platform_fee`, both exact (``Decimal``) then rounded once.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select

from commerce_core.after_sales.model import AfterSalesItem
from commerce_core.errors import InvalidInput, NotFound
from commerce_core.merchant_orders.service import day_start
from commerce_core.merchant_orders.types import SettlementOrder, SettlementRefund, SettlementStatement
from commerce_core.merchants.model import Merchant
from commerce_core.money import Money, check_currency
from commerce_core.orders.model import Order, OrderLine
from commerce_core.orders.parts import OrderPartCancellation
from commerce_core.payments.model import Refund
from commerce_core.payments.types import RefundStatus
from commerce_core.uow import UnitOfWork, Units

#: a statement covers at most this many days (a year and a day: any calendar year)
MAX_PERIOD_DAYS = 366


def _half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def share(amount: int, part: int, whole: int) -> int:
    """``amount * part / whole`` in minor units, rounded half up (0 when ``whole`` is 0)."""
    if whole <= 0 or part <= 0:
        return 0
    return min(amount, _half_up(Decimal(amount) * part / whole))


def platform_fee(net: int, percent: Decimal) -> int:
    """The platform's fee on a positive net amount, rounded half up to the minor unit."""
    if net <= 0:
        return 0
    return _half_up(Decimal(net) * percent / 100)


class Settlements:
    """``commerce.settlements``: statements per merchant and period."""

    def __init__(self, units: Units, *, fee_percent: Decimal = Decimal("5")) -> None:
        self._units = units
        self.fee_percent = fee_percent

    async def statement(
        self, merchant_id: int, period_from: date, period_to: date, *, currency: str = "CNY"
    ) -> SettlementStatement:
        check_currency(currency)
        if period_to < period_from or (period_to - period_from).days >= MAX_PERIOD_DAYS:
            raise InvalidInput(
                "choose a period of one day to a year", code="invalid_period", maximum=MAX_PERIOD_DAYS
            )
        since, until = day_start(period_from), day_start(period_to) + timedelta(days=1)
        async with self._units.orm() as uow:
            code = await uow.session.scalar(select(Merchant.code).where(Merchant.id == merchant_id))
            if code is None:
                raise NotFound("no such merchant", code="merchant_not_found")
            orders = await _paid_orders(uow, merchant_id, since, until, currency)
            refunds = await _refunds(uow, merchant_id, since, until, currency)
        gross = sum(o.goods.amount for o in orders)
        refunded = sum(r.refunded.amount for r in refunds)
        net = gross - refunded
        fee = platform_fee(net, self.fee_percent)
        return SettlementStatement(
            merchant_code=code,
            period_from=period_from,
            period_to=period_to,
            currency=currency,
            fee_percent=self.fee_percent,
            orders=tuple(orders),
            refunds=tuple(refunds),
            gross=Money(gross, currency),
            refunded=Money(refunded, currency),
            fee=Money(fee, currency),
            payable=Money(max(0, net - fee), currency),
            carried_over=Money(max(0, -net), currency),
        )


async def _paid_orders(
    uow: UnitOfWork, merchant_id: int, since: datetime, until: datetime, currency: str
) -> list[SettlementOrder]:
    rows = await uow.session.execute(
        select(Order.number, Order.paid_at, OrderLine.line_total)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(
            OrderLine.merchant_id == merchant_id,
            Order.currency == currency,
            Order.paid_at >= since,
            Order.paid_at < until,
        )
        .order_by(Order.paid_at, Order.id)
    )
    goods: dict[str, int] = defaultdict(int)
    paid_at: dict[str, datetime] = {}
    for number, at, line_total in rows.all():
        goods[number] += line_total
        paid_at[number] = at or since
    return [SettlementOrder(n, paid_at[n], Money(amount, currency)) for n, amount in goods.items()]


async def _refunds(
    uow: UnitOfWork, merchant_id: int, since: datetime, until: datetime, currency: str
) -> list[SettlementRefund]:
    mine = select(OrderLine.order_id).where(OrderLine.merchant_id == merchant_id)
    rows = (
        await uow.session.execute(
            select(Refund, Order.number)
            .join(Order, Order.id == Refund.order_id)
            .where(
                Refund.order_id.in_(mine),
                Refund.status == RefundStatus.SUCCEEDED.value,
                Refund.completed_at >= since,
                Refund.completed_at < until,
                Order.currency == currency,
            )
            .order_by(Refund.completed_at, Refund.id)
        )
    ).all()
    found = []
    for refund, number in rows:
        amount = await _my_share(uow, refund, merchant_id)
        if amount > 0:
            found.append(
                SettlementRefund(
                    number,
                    refund.public_id,
                    refund.completed_at or since,
                    Money(amount, currency),
                    Money(refund.amount, currency),
                )
            )
    return found


async def _my_share(uow: UnitOfWork, refund: Refund, merchant_id: int) -> int:
    """How much of ``refund`` was this merchant's goods (see the module's rules)."""
    part = (
        await uow.session.execute(
            select(OrderPartCancellation.merchant_id, OrderPartCancellation.goods_amount).where(
                OrderPartCancellation.refund_id == refund.public_id
            )
        )
    ).first()
    if part is not None:
        return int(part.goods_amount) if part.merchant_id == merchant_id else 0
    if refund.after_sales_case_id is not None:
        weights = await uow.session.execute(
            select(OrderLine.merchant_id, OrderLine.unit_price * AfterSalesItem.quantity)
            .join(OrderLine, OrderLine.id == AfterSalesItem.order_line_id)
            .where(AfterSalesItem.case_id == refund.after_sales_case_id)
        )
        by_merchant: dict[int, int] = defaultdict(int)
        for who, value in weights.all():
            by_merchant[who] += int(value)
        return share(refund.amount, by_merchant.get(merchant_id, 0), sum(by_merchant.values()))
    # a refund of the order as a whole: shared by goods against the order's total (the shipping fee
    # in it is nobody's goods)
    mine = await uow.session.scalar(
        select(func.coalesce(func.sum(OrderLine.line_total), 0)).where(
            OrderLine.order_id == refund.order_id, OrderLine.merchant_id == merchant_id
        )
    )
    total = await uow.session.scalar(select(Order.total).where(Order.id == refund.order_id))
    return share(refund.amount, int(mine or 0), int(total or 0))
