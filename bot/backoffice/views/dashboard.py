"""The sales and funnel dashboard (R6.1-1/2, R6.2-2, R6.4-1): search -> view -> cart -> order -> paid,
orders and sales per day, hot products and categories, a 7-day forecast of orders with its band, the
searches that found nothing, how often the bot did not understand and the most misunderstood messages
(masked), handoffs (volume, first response, resolution, ratings) and the after-sales 24-hour clock,
over a date range, with a CSV export of every table (all at once or one ``?section=``).

Who sees what: an admin sees the whole shop; a merchant owner only its own products' views and cart
adds, its own orders, hot items and forecast (the scope comes from the signed-in account, never from
the request), and no shop-wide search, NLU, handoff or after-sales desk figures. The figures are
counts, sums and medians; no shopper is named anywhere.

The charts are drawn in the browser by Chart.js (vendored in ``static/``, see ``static/NOTICE.txt``)
from each canvas's ``data-chart`` attribute: no inline script, so the CSP stays ``script-src 'self'``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any, Protocol

from aiohttp import web

from bot.backoffice.pages import now, render, text, visit
from commerce_core.analytics.types import HotItem
from commerce_core.api import DashboardFigures, pick_language
from commerce_core.operators.types import OperatorRole

DEFAULT_DAYS = 7
MAX_DAYS = 366
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: the CSV sections, one per table or chart of the page
SECTIONS = (
    "funnel",
    "per_day",
    "hot_products",
    "hot_categories",
    "forecast",
    "zero_results",
    "nlu",
    "misunderstood",
    "handoffs",
    "after_sales",
)


class Figures(Protocol):
    async def figures(self, start: date, end: date, merchant_id: int | None = None) -> DashboardFigures: ...


FIGURES: web.AppKey[Figures] = web.AppKey("backoffice.dashboard_figures", Figures)


def _range(request: web.Request) -> tuple[date, date]:
    """``?from=`` .. ``?to=`` (ISO days, inclusive); the last week by default. Nonsense is a 400."""
    today = now(request).date()
    try:
        end = date.fromisoformat(request.query.get("to", "")[:10]) if request.query.get("to") else today
        start = (
            date.fromisoformat(request.query.get("from", "")[:10])
            if request.query.get("from")
            else end - timedelta(days=DEFAULT_DAYS - 1)
        )
    except ValueError:
        raise web.HTTPBadRequest(text=text(request, "dashboard.bad_range")) from None
    if start > end or (end - start).days >= MAX_DAYS:
        raise web.HTTPBadRequest(text=text(request, "dashboard.bad_range"))
    return start, end


def _scope(request: web.Request) -> int | None:
    """None: the whole shop (admins); otherwise the signed-in merchant's id."""
    me = visit(request).me()
    if me.role == OperatorRole.ADMIN:
        return None
    if me.merchant_id is None:  # a merchant role without a merchant: show nobody's figures
        raise web.HTTPNotFound()
    return me.merchant_id


async def _figures(request: web.Request) -> DashboardFigures:
    start, end = _range(request)
    service = request.config_dict.get(FIGURES)
    if service is None:
        raise web.HTTPNotFound()
    return await service.figures(start, end, merchant_id=_scope(request))


def _chart(kind: str, labels: list[str], datasets: list[dict[str, Any]]) -> str:
    options = {
        "animation": False,
        "responsive": True,
        "maintainAspectRatio": False,  # the chart fills its box (``div.chart``, a fixed height in the CSS)
        "plugins": {"legend": {"position": "bottom"}},
    }
    return json.dumps({"type": kind, "data": {"labels": labels, "datasets": datasets}, "options": options})


def _money(minor: int) -> str:
    return f"{minor / 100:.2f}"


def _duration(seconds: float | None) -> str:
    """A median time as a person reads it: minutes under two hours, hours after that; "-" for none."""
    if seconds is None:
        return "-"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def _hot_chart(request: web.Request, items: list[HotItem], lang: str) -> str:
    labels = [pick_language(item.name, lang) or item.code for item in items]
    return _chart(
        "bar",
        labels,
        [
            {"label": text(request, "dashboard.views"), "data": [i.views for i in items]},
            {"label": text(request, "dashboard.cart_adds"), "data": [i.cart_adds for i in items]},
            {"label": text(request, "dashboard.orders"), "data": [i.orders for i in items]},
        ],
    )


def _charts(request: web.Request, figures: DashboardFigures, lang: str) -> dict[str, str]:
    """Every chart's Chart.js configuration, rendered into its canvas's ``data-chart``."""
    days = [d.day.isoformat() for d in figures.per_day]
    forecast = figures.forecast
    return {
        "funnel": _chart(
            "bar",
            [text(request, f"dashboard.stage.{k}") for k in figures.funnel],
            [{"label": text(request, "dashboard.funnel"), "data": list(figures.funnel.values())}],
        ),
        "day": _chart(
            "bar",
            days,
            [
                {
                    "label": text(request, "dashboard.orders"),
                    "data": [d.orders for d in figures.per_day],
                    "yAxisID": "y",
                },
                {
                    "label": text(request, "dashboard.sales", currency=figures.currency),
                    "type": "line",
                    "data": [d.sales / 100 for d in figures.per_day],
                    "yAxisID": "y1",
                },
            ],
        ),
        "zero": _chart(
            "bar",
            [q for q, _ in figures.zero_result_searches],
            [
                {
                    "label": text(request, "dashboard.zero_results"),
                    "data": [n for _, n in figures.zero_result_searches],
                }
            ],
        ),
        "products": _hot_chart(request, figures.hot_products, lang),
        "categories": _hot_chart(request, figures.hot_categories, lang),
        "forecast": _chart(
            "line",
            [f.day.isoformat() for f in forecast],
            [
                {"label": text(request, "dashboard.expected"), "data": [f.expected for f in forecast]},
                {"label": text(request, "dashboard.low"), "data": [f.low for f in forecast]},
                {"label": text(request, "dashboard.high"), "data": [f.high for f in forecast]},
            ],
        ),
    }


async def dashboard(request: web.Request) -> web.StreamResponse:
    figures = await _figures(request)
    lang = visit(request).language
    return render(
        request,
        "dashboard.html",
        figures=figures,
        stages={key: text(request, f"dashboard.stage.{key}") for key in figures.funnel},
        money=_money,
        duration=_duration,
        named=lambda item: pick_language(item.name, lang) or item.code,
        charts=_charts(request, figures, lang),
        shop_wide=figures.merchant_id is None,
    )


def _cell(value: object) -> str:
    shown = str(value)
    return "'" + shown if shown.startswith(FORMULA_START) else shown


def _rows(figures: DashboardFigures) -> Iterator[tuple[str, str, str, object]]:
    """(section, key, measure, value): every table and chart of the page, one row per figure."""
    for stage, count in figures.funnel.items():
        yield "funnel", stage, "count", count
    for day in figures.per_day:
        yield "per_day", day.day.isoformat(), "orders", day.orders
        yield "per_day", day.day.isoformat(), "sales", _money(day.sales)
    for section, items in (
        ("hot_products", figures.hot_products),
        ("hot_categories", figures.hot_categories),
    ):
        for item in items:
            yield section, item.code, "views", item.views
            yield section, item.code, "cart_adds", item.cart_adds
            yield section, item.code, "orders", item.orders
    for f in figures.forecast:
        yield "forecast", f.day.isoformat(), "expected", f.expected
        yield "forecast", f.day.isoformat(), "low", f.low
        yield "forecast", f.day.isoformat(), "high", f.high
    if figures.merchant_id is not None:
        return  # the rest is the shop's staff's business
    for query, n in figures.zero_result_searches:
        yield "zero_results", _cell(query), "times", n
    yield "nlu", "messages", "count", figures.turns_understood
    yield "nlu", "fallbacks", "count", figures.nlu_fallbacks
    yield "nlu", "fallback_rate", "ratio", f"{figures.fallback_rate:.4f}"
    for message, n in figures.misunderstood:
        yield "misunderstood", _cell(message), "times", n
    if (h := figures.handoffs) is not None:
        for measure, value in (
            ("volume", h.volume),
            ("answered", h.answered),
            ("resolved", h.resolved),
            ("first_response_median_s", h.first_response_s),
            ("resolution_median_s", h.resolution_s),
            ("ratings", h.ratings),
            ("average_rating", h.average_rating),
        ):
            yield "handoffs", "all", measure, "" if value is None else value
    if (a := figures.after_sales) is not None:
        for measure, value in (
            ("opened", a.opened),
            ("within_24h", a.within),
            ("over_24h", a.over),
            ("waiting", a.waiting),
            ("first_action_median_s", a.first_action_s),
        ):
            yield "after_sales", "all", measure, "" if value is None else value


async def dashboard_csv(request: web.Request) -> web.StreamResponse:
    """All the page's figures, or one table's (``?section=``), as CSV."""
    figures = await _figures(request)
    section = request.query.get("section", "")
    if section and section not in SECTIONS:
        raise web.HTTPBadRequest(text=text(request, "dashboard.bad_section"))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(("section", "key", "measure", "value"))
    writer.writerows(row for row in _rows(figures) if not section or row[0] == section)
    name = f"dashboard-{section or 'all'}-{figures.start.isoformat()}-{figures.end.isoformat()}.csv"
    return web.Response(
        body=("\ufeff" + buffer.getvalue()).encode(),  # the BOM: spreadsheets then read UTF-8 (中文)
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
