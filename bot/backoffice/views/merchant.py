"""The merchant console: a merchant user's own products and orders, nothing else.

Scoping is by the signed-in operator's ``merchant_id`` and nothing from the request: the core's
merchant-scoped reads answer NotFound for another merchant's product or order (the guard turns that
into the same 404 page as an unknown id), so nobody can even learn that it exists. Shipping goes
through the same scope: the core ships only the signed-in merchant's part of an order.

The orders list refreshes itself (htmx polls the rows fragment every few seconds), so a paid order
shows up without a reload while the merchant is looking at the list.
"""

from __future__ import annotations

from aiohttp import web

from bot.backoffice.pages import (
    FULFILMENT,
    field,
    flash,
    form,
    operators,
    problem,
    redirect,
    render,
    text,
    visit,
)
from commerce_core.api import DomainError

CODE_LIMIT = 64
PAGE = 50
#: the carrier choice that asks the simulated carrier for a waybill instead of a typed one
SIMULATED = "simulated"
#: the waybill-tracking service that also needs the express company's code ("shunfeng", "yuantong")
KUAIDI100 = "kuaidi100"


def _page(request: web.Request) -> int:
    """The ``?page=`` number, 0 for anything that is not a small non-negative integer."""
    value = request.query.get("page", "0")
    return min(int(value), 10_000) if value.isdigit() else 0


def _merchant_id(request: web.Request) -> int:
    merchant_id = visit(request).me().merchant_id
    if merchant_id is None:  # a merchant role always has one; refuse rather than show anyone's data
        raise web.HTTPNotFound()
    return merchant_id


async def products(request: web.Request) -> web.StreamResponse:
    page = _page(request)
    listed = await operators(request).merchant_products(
        _merchant_id(request), limit=PAGE + 1, offset=page * PAGE
    )
    return render(request, "products.html", products=listed[:PAGE], page=page, more=len(listed) > PAGE)


async def product(request: web.Request) -> web.StreamResponse:
    code = request.match_info["code"][:CODE_LIMIT]
    shown = await operators(request).merchant_product(_merchant_id(request), code)
    return render(request, "product.html", product=shown)


async def order(request: web.Request, *, error: str | None = None, status: int = 200) -> web.StreamResponse:
    number = request.match_info["number"][:CODE_LIMIT]
    merchant_id = _merchant_id(request)
    shown = await operators(request).merchant_order(merchant_id, number)
    parcels = await request.app[FULFILMENT].parcels(shown.number, merchant_id=merchant_id)
    return render(request, "order.html", status=status, order=shown, parcels=parcels, error=error)


async def ship(request: web.Request) -> web.StreamResponse:
    """Ship my part of the order: with the simulated carrier, or a carrier and waybill typed in."""
    number = request.match_info["number"][:CODE_LIMIT]
    merchant_id = _merchant_id(request)
    shown = await operators(request).merchant_order(merchant_id, number)  # 404 unless it is mine
    values = await form(request)
    carrier = field(values, "carrier", 32) or SIMULATED
    tracking = field(values, "tracking", 64) or None
    company = field(values, "company", 32) or None
    if carrier != SIMULATED and tracking is None:
        return await order(request, error=text(request, "ship.tracking_invalid"), status=400)
    try:
        await request.app[FULFILMENT].ship(
            shown.number,
            merchant_id=merchant_id,
            carrier=carrier,
            tracking_number=tracking if carrier != SIMULATED else None,
            company=company if carrier == KUAIDI100 else None,
            actor=f"operator:{visit(request).me().public_id}",
        )
    except DomainError as refused:
        if refused.code == "order_not_found":
            raise
        return await order(request, error=problem(request, refused), status=400)
    flash(request, "ship.done")
    raise redirect(request, "merchant.order", number=shown.number)
