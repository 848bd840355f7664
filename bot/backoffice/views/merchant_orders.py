"""The merchant console's order tools: the filtered order list (and its CSV), cancelling my part of a
paid order I cannot fill, and the settlement statement per period (page and CSV).

Scoping is by the signed-in operator's ``merchant_id`` only (as in :mod:`.merchant`): another
merchant's order is 404, like an unknown number. The CSV holds what the console already shows a
merchant (number, status, dates, its own lines); no shopper name, phone or address.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Protocol

from aiohttp import web

from bot.backoffice.pages import field, flash, form, now, redirect, render, text, visit
from bot.backoffice.views.merchant import order as order_page
from commerce_core.api import (
    CANCEL_REASON_LIMIT,
    Actor,
    DomainError,
    MerchantOrderView,
    OrderFilter,
    OrderStatus,
    PartCancelResult,
    SettlementStatement,
    pick_language,
)

PAGE = 50
EXPORT_LIMIT = 10_000
CODE_LIMIT = 64
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ORDER_COLUMNS = (
    "number",
    "status",
    "placed_at",
    "paid_at",
    "shipped_at",
    "sku",
    "product",
    "options",
    "unit_price",
    "quantity",
    "line_total",
    "my_part",
)


class MerchantOrderTools(Protocol):
    """What these pages need from the core (``commerce.merchant_orders``)."""

    async def orders(
        self, merchant_id: int, wanted: OrderFilter | None = None, *, limit: int = 50, offset: int = 0
    ) -> list[MerchantOrderView]: ...
    async def cancel_part(
        self, merchant_id: int, number: str, actor: Actor, *, reason: str
    ) -> PartCancelResult: ...


class Statements(Protocol):
    """``commerce.settlements``."""

    async def statement(
        self, merchant_id: int, period_from: date, period_to: date, *, currency: str = "CNY"
    ) -> SettlementStatement: ...


class MerchantOrderPages:
    def __init__(self, tools: MerchantOrderTools, statements: Statements) -> None:
        self.tools = tools
        self.statements = statements


MERCHANT_ORDERS: web.AppKey[MerchantOrderPages] = web.AppKey("backoffice.merchant_orders", MerchantOrderPages)


def _pages(request: web.Request) -> MerchantOrderPages:
    if MERCHANT_ORDERS not in request.app:
        raise web.HTTPNotFound()
    return request.app[MERCHANT_ORDERS]


def _merchant_id(request: web.Request) -> int:
    merchant_id = visit(request).me().merchant_id
    if merchant_id is None:  # a merchant role always has one; refuse rather than show anyone's data
        raise web.HTTPNotFound()
    return merchant_id


def _day(value: str) -> date | None:
    """``YYYY-MM-DD`` or nothing; anything else raises ValueError (a clear 400)."""
    value = value.strip()[:10]
    return date.fromisoformat(value) if value else None


def _shown(query: Mapping[str, str]) -> dict[str, str]:
    """The filter's values as typed, to show back in the form."""
    return {name: query.get(name, "").strip()[:32] for name in ("status", "from", "to", "q")}


def _wanted(query: Mapping[str, str]) -> tuple[OrderFilter, dict[str, str]]:
    """The list's filter from the query string, and the values to show back in the form."""
    shown = _shown(query)
    status = shown["status"] or None
    if status is not None and status not in {s.value for s in OrderStatus}:
        raise ValueError(status)
    wanted = OrderFilter(status, _day(shown["from"]), _day(shown["to"]), shown["q"] or None)
    if wanted.placed_from and wanted.placed_to and wanted.placed_from > wanted.placed_to:
        raise ValueError("period")
    return wanted, shown


def _page(request: web.Request) -> int:
    value = request.query.get("page", "0")
    return min(int(value), 10_000) if value.isdigit() else 0


async def orders(request: web.Request) -> web.StreamResponse:
    """My orders, filtered by status, placing date and number; the first page refreshes itself."""
    try:
        wanted, shown = _wanted(request.query)
    except ValueError:
        return render(
            request,
            "orders.html",
            status=400,
            orders=[],
            page=0,
            more=False,
            shown=_shown(request.query),
            statuses=list(OrderStatus),
            query="",
            error=text(request, "morders.bad_filter"),
        )
    page = _page(request)
    listed = await _pages(request).tools.orders(
        _merchant_id(request), wanted, limit=PAGE + 1, offset=page * PAGE
    )
    query = "&".join(f"{k}={v}" for k, v in request.query.items() if k in shown and v)
    return render(
        request,
        "orders.html",
        orders=listed[:PAGE],
        page=page,
        more=len(listed) > PAGE,
        shown=shown,
        statuses=list(OrderStatus),
        query=query,
        error=None,
    )


async def order_rows(request: web.Request) -> web.StreamResponse:
    """The first page's rows alone (same filter): what the list polls for, so paid orders appear live."""
    try:
        wanted, _ = _wanted(request.query)
    except ValueError:
        raise web.HTTPBadRequest() from None
    listed = await _pages(request).tools.orders(_merchant_id(request), wanted, limit=PAGE)
    return render(request, "order_rows.html", orders=listed)


def _cell(value: object) -> str:
    shown = "" if value is None else value.isoformat() if hasattr(value, "isoformat") else str(value)
    return "'" + shown if shown.startswith(FORMULA_START) else shown


def _csv(name: str, header: Iterable[str], rows: Iterable[Iterable[object]]) -> web.Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([_cell(value) for value in row] for row in rows)
    return web.Response(
        body=("\ufeff" + buffer.getvalue()).encode(),  # the BOM: spreadsheets then read UTF-8 (中文)
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def orders_csv(request: web.Request) -> web.StreamResponse:
    """The filtered list as CSV, one row per line of mine (no shopper's name, phone or address)."""
    try:
        wanted, _ = _wanted(request.query)
    except ValueError:
        return web.Response(status=400, text=text(request, "morders.bad_filter"))
    lang = visit(request).language
    listed = await _pages(request).tools.orders(_merchant_id(request), wanted, limit=EXPORT_LIMIT)
    rows = [
        (
            o.number,
            o.status,
            o.placed_at,
            o.paid_at,
            o.shipped_at,
            line.sku_code,
            pick_language(line.product_name, lang),
            "; ".join(f"{k}: {v}" for k, v in line.options.items()),
            line.unit_price.format(),
            line.quantity,
            line.line_total.format(),
            "cancelled" if o.part_cancelled else "shipped" if o.part_shipped else "",
        )
        for o in listed
        for line in o.lines
    ]
    return _csv("orders.csv", ORDER_COLUMNS, rows)


async def cancel(request: web.Request) -> web.StreamResponse:
    """Cancel my part of a paid order with a reason; the shopper is refunded and told."""
    number = request.match_info["number"][:CODE_LIMIT]
    merchant_id = _merchant_id(request)
    values = await form(request)
    reason = field(values, "reason", CANCEL_REASON_LIMIT)
    if not reason:
        return await order_page(request, error=text(request, "morders.reason_required"), status=400)
    try:
        await _pages(request).tools.cancel_part(merchant_id, number, visit(request).actor, reason=reason)
    except DomainError as refused:
        if refused.code == "order_not_found":
            raise
        key = f"morders.refused.{refused.code}"
        known = ("part_shipped", "part_already_cancelled", "order_not_cancellable")
        message = text(request, key if refused.code in known else "morders.refused.other")
        return await order_page(request, error=message, status=400)
    flash(request, "morders.cancelled")
    raise redirect(request, "merchant.order", number=number)


def _period(query: Mapping[str, str], today: date) -> tuple[date, date]:
    """``?month=YYYY-MM`` or ``?from=&to=`` (days, inclusive); the current month by default."""
    month = query.get("month", "").strip()[:7]
    if month or not (query.get("from") or query.get("to")):
        first = date.fromisoformat(f"{month}-01") if month else today.replace(day=1)
        following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        return first, following - timedelta(days=1)
    start, end = _day(query.get("from", "")), _day(query.get("to", ""))
    if start is None or end is None:
        raise ValueError("both ends")
    return start, end


async def _statement(request: web.Request) -> SettlementStatement | None:
    try:
        start, end = _period(request.query, now(request).date())
    except ValueError:
        return None
    try:
        return await _pages(request).statements.statement(_merchant_id(request), start, end)
    except DomainError as refused:
        if refused.code == "invalid_period":
            return None
        raise


async def settlement(request: web.Request) -> web.StreamResponse:
    shown = {name: request.query.get(name, "").strip()[:10] for name in ("month", "from", "to")}
    found = await _statement(request)
    if found is None:
        return render(
            request,
            "settlement.html",
            status=400,
            statement=None,
            shown=shown,
            error=text(request, "morders.bad_period"),
        )
    return render(
        request, "settlement.html", statement=found, shown=shown, error=None, query=request.query_string[:200]
    )


async def settlement_csv(request: web.Request) -> web.StreamResponse:
    found = await _statement(request)
    if found is None:
        return web.Response(status=400, text=text(request, "morders.bad_period"))
    rows: list[tuple[object, ...]] = [
        ("order", o.order_number, o.paid_at, o.goods.format(), "") for o in found.orders
    ]
    rows += [("refund", r.order_number, r.completed_at, "", r.refunded.format()) for r in found.refunds]
    rows += [
        ("total_paid_orders", found.paid_orders, "", found.gross.format(), ""),
        ("total_refunds", len(found.refunds), "", "", found.refunded.format()),
        ("platform_fee", f"{found.fee_percent}%", "", "", found.fee.format()),
        ("payable", "", "", found.payable.format(), ""),
        ("carried_over", "", "", "", found.carried_over.format()),
    ]
    name = f"settlement-{found.merchant_code}-{found.period_from}-{found.period_to}.csv"
    return _csv(name, ("kind", "order", "at", "amount", "deduction"), rows)
