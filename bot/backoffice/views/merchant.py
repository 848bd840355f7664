"""The merchant console: a merchant user's own products and orders, nothing else.

Scoping is by the signed-in operator's ``merchant_id`` and nothing from the request: the core's
merchant-scoped reads answer NotFound for another merchant's product or order (the guard turns that
into the same 404 page as an unknown id), so nobody can even learn that it exists.
"""

from __future__ import annotations

from aiohttp import web

from bot.backoffice.pages import operators, render, visit

CODE_LIMIT = 64
PAGE = 50


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


async def orders(request: web.Request) -> web.StreamResponse:
    page = _page(request)
    listed = await operators(request).merchant_orders(
        _merchant_id(request), limit=PAGE + 1, offset=page * PAGE
    )
    return render(request, "orders.html", orders=listed[:PAGE], page=page, more=len(listed) > PAGE)


async def order(request: web.Request) -> web.StreamResponse:
    number = request.match_info["number"][:CODE_LIMIT]
    shown = await operators(request).merchant_order(_merchant_id(request), number)
    return render(request, "order.html", order=shown)
