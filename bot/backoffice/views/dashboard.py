"""The sales and funnel dashboard (R6.1-1/2, R6.2-2): search -> view -> cart -> order -> paid, orders
and sales per day, the searches that found nothing, and how often the bot did not understand, over a
date range, with a CSV export.

Who sees what: an admin sees the whole shop; a merchant owner only its own products' views and cart
adds and its own orders (the scope comes from the signed-in account, never from the request), and no
shop-wide search or NLU figures. The figures are counts and sums; no shopper is named anywhere.

The charts are drawn in the browser by Chart.js (vendored in ``static/``, see ``static/NOTICE.txt``)
from each canvas's ``data-chart`` attribute: no inline script, so the CSP stays ``script-src 'self'``.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from typing import Any, Protocol

from aiohttp import web

from bot.backoffice.pages import now, render, text, visit
from commerce_core.api import DashboardFigures
from commerce_core.operators.types import OperatorRole

DEFAULT_DAYS = 7
MAX_DAYS = 366
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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
    options = {"animation": False, "responsive": True, "plugins": {"legend": {"position": "bottom"}}}
    return json.dumps({"type": kind, "data": {"labels": labels, "datasets": datasets}, "options": options})


def _money(minor: int) -> str:
    return f"{minor / 100:.2f}"


async def dashboard(request: web.Request) -> web.StreamResponse:
    figures = await _figures(request)
    t = {key: text(request, f"dashboard.stage.{key}") for key in figures.funnel}
    days = [d.day.isoformat() for d in figures.per_day]
    funnel_chart = _chart(
        "bar",
        [t[k] for k in figures.funnel],
        [{"label": text(request, "dashboard.funnel"), "data": list(figures.funnel.values())}],
    )
    day_chart = _chart(
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
    )
    zero_chart = _chart(
        "bar",
        [q for q, _ in figures.zero_result_searches],
        [
            {
                "label": text(request, "dashboard.zero_results"),
                "data": [n for _, n in figures.zero_result_searches],
            }
        ],
    )
    return render(
        request,
        "dashboard.html",
        figures=figures,
        stages=t,
        money=_money,
        funnel_chart=funnel_chart,
        day_chart=day_chart,
        zero_chart=zero_chart,
        shop_wide=figures.merchant_id is None,
    )


def _cell(value: object) -> str:
    shown = str(value)
    return "'" + shown if shown.startswith(FORMULA_START) else shown


async def dashboard_csv(request: web.Request) -> web.StreamResponse:
    figures = await _figures(request)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(("section", "key", "value"))
    writer.writerows(("funnel", stage, count) for stage, count in figures.funnel.items())
    for day in figures.per_day:
        writer.writerow(("orders", day.day.isoformat(), day.orders))
        writer.writerow(("sales", day.day.isoformat(), _money(day.sales)))
    writer.writerows(("zero_result_search", _cell(query), n) for query, n in figures.zero_result_searches)
    if figures.merchant_id is None:
        writer.writerow(("nlu", "messages", figures.turns_understood))
        writer.writerow(("nlu", "fallbacks", figures.nlu_fallbacks))
    name = f"dashboard-{figures.start.isoformat()}-{figures.end.isoformat()}.csv"
    return web.Response(
        body=("\ufeff" + buffer.getvalue()).encode(),  # the BOM: spreadsheets then read UTF-8 (中文)
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
