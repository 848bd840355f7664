"""The dashboard's figures (R6.1-1/2, R6.4-1): read-only aggregates over behaviour events, orders,
handoff tickets and after-sales cases for a date range.

Scope: ``merchant_id`` None is the whole shop (admins). A merchant's scope keeps its own products'
views and cart adds, the ``paid`` rows of orders it sold in, its own orders, hot products and
categories and forecast; searches, NLU figures, handoffs and the after-sales desk are the shop's
staff's business, so a merchant gets none of them.

Nothing here names a shopper: counts, sums, medians, product and category names, search words with
personal-looking ones left out, and misunderstood messages masked by :func:`mask_personal`.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, select

from commerce_core.after_sales.model import AfterSalesCase
from commerce_core.analytics.forecast import HISTORY_DAYS, forecast_orders
from commerce_core.analytics.model import BehaviourEvent
from commerce_core.analytics.types import (
    DashboardFigures,
    DayFigures,
    HandoffFigures,
    HotItem,
    SlaFigures,
    mask_personal,
)
from commerce_core.catalog.model import Category, Product
from commerce_core.orders.model import Order, OrderLine
from commerce_core.support.model import Ticket
from commerce_core.support.types import TicketKind, TicketStatus

_PERSONAL = re.compile(r"\d{5,}|@")
FUNNEL = ("search", "product_view", "cart_add", "order_placed", "paid")
TOP = 10


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return datetime.combine(start, time.min, tzinfo=UTC), datetime.combine(
        end + timedelta(days=1), time.min, tzinfo=UTC
    )


def _median_seconds(spans: list[timedelta]) -> float | None:
    return round(statistics.median(s.total_seconds() for s in spans), 1) if spans else None


async def _funnel(s: Any, start: date, end: date, merchant_id: int | None) -> dict[str, int]:
    """Event counts per kind; ``paid`` from the ``paid`` rows (see ``service._PAID_ROWS``): a merchant
    counts its own rows (one per order it sold in), the shop sums ``results`` (one per order)."""
    e = BehaviourEvent
    in_range = and_(e.day >= start, e.day <= end)
    counted = select(e.kind, func.count()).where(in_range, e.kind != "paid")
    paid = select(func.count() if merchant_id is not None else func.coalesce(func.sum(e.results), 0))
    paid = paid.where(in_range, e.kind == "paid")
    if merchant_id is not None:
        counted = counted.where(e.product.in_(select(Product.code).where(Product.merchant_id == merchant_id)))
        paid = paid.where(e.merchant_id == merchant_id)
    kinds = dict((await s.execute(counted.group_by(e.kind))).all())
    kinds["paid"] = int(await s.scalar(paid) or 0)
    return {k: int(kinds.get(k, 0)) for k in FUNNEL} | {"nlu_fallback": int(kinds.get("nlu_fallback", 0))}


def _orders(merchant_id: int | None) -> Any:
    orders = select(Order.id, Order.created_at, Order.paid_at, Order.total, Order.currency)
    if merchant_id is not None:
        orders = orders.where(
            Order.id.in_(select(OrderLine.order_id).where(OrderLine.merchant_id == merchant_id))
        )
    return orders


async def _hot(
    s: Any, start: date, end: date, merchant_id: int | None
) -> tuple[list[HotItem], list[HotItem]]:
    """Products and categories by orders, then cart adds, then views, in the range."""
    e = BehaviourEvent
    since, until = _bounds(start, end)
    events = select(e.product, e.kind, func.count()).where(
        e.day >= start, e.day <= end, e.kind.in_(("product_view", "cart_add")), e.product.is_not(None)
    )
    ordered = (
        select(Product.code, func.count(func.distinct(OrderLine.order_id)))
        .join(OrderLine, OrderLine.product_id == Product.id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.created_at >= since, Order.created_at < until)
    )
    if merchant_id is not None:
        events = events.where(e.product.in_(select(Product.code).where(Product.merchant_id == merchant_id)))
        ordered = ordered.where(OrderLine.merchant_id == merchant_id)
    counts: dict[str, list[int]] = {}
    for code, kind, n in (await s.execute(events.group_by(e.product, e.kind))).all():
        counts.setdefault(str(code), [0, 0, 0])[0 if kind == "product_view" else 1] += int(n)
    for code, n in (await s.execute(ordered.group_by(Product.code))).all():
        counts.setdefault(str(code), [0, 0, 0])[2] += int(n)
    if not counts:
        return [], []
    rows = (
        await s.execute(
            select(Product.code, Product.name, Category.code, Category.name)
            .join(Category, Category.id == Product.category_id)
            .where(Product.code.in_(list(counts)))
        )
    ).all()
    products: list[HotItem] = []
    by_category: dict[str, tuple[dict[str, str], list[int]]] = {}
    for code, name, category, category_name in rows:
        views, adds, orders = counts[code]
        products.append(HotItem(code, dict(name), views, adds, orders))
        summed = by_category.setdefault(category, (dict(category_name), [0, 0, 0]))[1]
        for i, n in enumerate((views, adds, orders)):
            summed[i] += n
    categories = [HotItem(code, name, *sums) for code, (name, sums) in by_category.items()]

    def rank(item: HotItem) -> tuple[int, int, int, str]:
        return (-item.orders, -item.cart_adds, -item.views, item.code)

    return sorted(products, key=rank)[:TOP], sorted(categories, key=rank)[:TOP]


async def _handoffs(s: Any, since: datetime, until: datetime) -> HandoffFigures:
    t = Ticket
    rows = (
        await s.execute(
            select(t.status, t.created_at, t.first_response_at, t.closed_at, t.rating).where(
                t.kind == TicketKind.HANDOFF.value, t.created_at >= since, t.created_at < until
            )
        )
    ).all()
    first = [r.first_response_at - r.created_at for r in rows if r.first_response_at is not None]
    resolved = [
        r.closed_at - r.created_at for r in rows if r.status == TicketStatus.RESOLVED.value and r.closed_at
    ]
    ratings = [int(r.rating) for r in rows if r.rating is not None]
    return HandoffFigures(
        volume=len(rows),
        answered=len(first),
        resolved=len(resolved),
        first_response_s=_median_seconds(first),
        resolution_s=_median_seconds(resolved),
        ratings=len(ratings),
        average_rating=round(sum(ratings) / len(ratings), 2) if ratings else None,
    )


async def _after_sales(s: Any, since: datetime, until: datetime, now: datetime) -> SlaFigures:
    c = AfterSalesCase
    rows = (
        await s.execute(
            select(c.created_at, c.first_response_due_at, c.first_responded_at).where(
                c.created_at >= since, c.created_at < until
            )
        )
    ).all()
    within = sum(
        1
        for r in rows
        if r.first_responded_at is not None and r.first_responded_at <= r.first_response_due_at
    )
    waiting = sum(1 for r in rows if r.first_responded_at is None and now < r.first_response_due_at)
    spans = [r.first_responded_at - r.created_at for r in rows if r.first_responded_at is not None]
    return SlaFigures(len(rows), within, len(rows) - within - waiting, waiting, _median_seconds(spans))


async def dashboard_figures(
    s: Any, start: date, end: date, merchant_id: int | None, now: datetime
) -> DashboardFigures:
    """Everything the dashboard shows for ``start``..``end`` (inclusive) in ``merchant_id``'s scope."""
    since, until = _bounds(start, end)
    e = BehaviourEvent
    shop_wide = merchant_id is None
    funnel = await _funnel(s, start, end, merchant_id)
    fallbacks = funnel.pop("nlu_fallback")
    messages = int(
        await s.scalar(
            select(func.coalesce(func.sum(e.results), 0)).where(
                e.day >= start, e.day <= end, e.kind == "messages"
            )
        )
        or 0
    )
    zero_rows = (
        await s.execute(
            select(func.lower(e.query), func.count())
            .where(e.day >= start, e.day <= end, e.kind == "search", e.results == 0, e.query != "")
            .group_by(func.lower(e.query))
        )
    ).all()
    misunderstood_rows = (
        await s.execute(
            select(e.query, func.count())
            .where(
                e.day >= start, e.day <= end, e.kind == "nlu_fallback", e.query.is_not(None), e.query != ""
            )
            .group_by(e.query)
        )
    ).all()
    orders = _orders(merchant_id)
    created = (await s.execute(orders.where(Order.created_at >= since, Order.created_at < until))).all()
    paid = (await s.execute(orders.where(Order.paid_at >= since, Order.paid_at < until))).all()
    history_from = datetime.combine(end - timedelta(days=HISTORY_DAYS - 1), time.min, tzinfo=UTC)
    history_rows = (
        await s.execute(orders.where(Order.created_at >= history_from, Order.created_at < until))
    ).all()
    hot_products, hot_categories = await _hot(s, start, end, merchant_id)
    handoffs = await _handoffs(s, since, until) if shop_wide else None
    after_sales = await _after_sales(s, since, until, now) if shop_wide else None

    per_day = {start + timedelta(days=n): [0, 0] for n in range((end - start).days + 1)}
    for row in created:
        if (bucket := per_day.get(row.created_at.date())) is not None:
            bucket[0] += 1
    for row in paid:
        if row.paid_at and (bucket := per_day.get(row.paid_at.date())) is not None:
            bucket[1] += row.total
    history = Counter(row.created_at.date() for row in history_rows)
    series = [history.get(end - timedelta(days=n), 0) for n in range(HISTORY_DAYS - 1, -1, -1)]
    funnel["order_placed"] = len(created)  # orders are counted from their own table, whoever sold them
    if not shop_wide:
        funnel.pop("search")
    # a search that looks like a phone number, an e-mail or an id is someone's data, not a wish
    wanted = Counter({str(q): int(n) for q, n in zero_rows if q and not _PERSONAL.search(str(q))})
    misunderstood: Counter[str] = Counter()
    for message, n in misunderstood_rows:  # masked when written; masked again in case of older rows
        misunderstood[mask_personal(str(message))] += int(n)
    currency = next((row.currency for row in (*created, *paid)), "CNY")
    return DashboardFigures(
        start=start,
        end=end,
        funnel=funnel,
        per_day=[DayFigures(d, v[0], v[1]) for d, v in per_day.items()],
        zero_result_searches=wanted.most_common(TOP) if shop_wide else [],
        turns_understood=messages,
        nlu_fallbacks=fallbacks,
        currency=currency,
        merchant_id=merchant_id,
        hot_products=hot_products,
        hot_categories=hot_categories,
        misunderstood=misunderstood.most_common(TOP) if shop_wide else [],
        handoffs=handoffs,
        after_sales=after_sales,
        forecast=forecast_orders(series, end),
    )
