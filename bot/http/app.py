"""The HTTP app (aiohttp, the server stack aiogram's webhooks use): health, sandbox payments, and the
routes every registered channel and extension adds.

Routes of its own:
  GET  /sandbox/pay/{payment}  the sandbox provider's pay page; POST pays (it then calls us back)
  POST /payments/sandbox/notify  where the sandbox (or a test) delivers signed notifications
  GET  /healthz                liveness and database/Redis readiness
  GET  /media/demo/{name}.svg  placeholder product pictures for the demo catalogue
plus whatever the runtime's route installers add: each channel's (the web chat's page and API, the
Telegram webhook, WeChat's endpoints) and any extension handed to ``bootstrap(routes=...)`` or to
:func:`create_app` (e.g. the back office).
"""

from __future__ import annotations

import hashlib
import html
import time
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from sqlalchemy import text

from bot.channels.base import RouteInstaller
from bot.http.origin import check_same_origin
from bot.infra.flood import WINDOW_SECONDS, FloodGate
from bot.infra.input import too_deep
from bot.observability import http as observability
from bot.runtime import Runtime
from commerce_core.api import DomainError, PaymentRejected, customer_key

RUNTIME: web.AppKey[Runtime] = web.AppKey("runtime", Runtime)
FLOOD: web.AppKey[FloodGate] = web.AppKey("flood", FloodGate)
MAX_BODY = 64 * 1024
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


STREAMED_FORMS = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})
SERVER_NAME = "shopbot"  # no versions: they only help an attacker pick an exploit


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every response the app prepares, errors included (404s, 405s, 413s, 500s from aiohttp): a
    middleware sees only what handlers return, so this hangs on ``on_response_prepare``."""
    for key, value in SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)
    response.headers["Server"] = SERVER_NAME


async def rate_limited(request: web.Request) -> web.Response | None:
    """The web chat's API (``/api/...``) per client IP and per session cookie (``SHOPBOT_RATE_WEB_*``
    per minute): over the limit, 429 with ``Retry-After`` before any handler or database work."""
    if not request.path.startswith("/api/"):
        return None
    limits, gate = request.app[RUNTIME].container.settings.rate, request.app[FLOOD]
    session = request.cookies.get(limits.web_session_cookie, "")[:128]
    checks = [("web-ip", request.remote or "-", limits.web_per_ip)]
    if session:
        checks.append(("web-session", session, limits.web_per_session))
    if await gate.allow_each(checks, time.time()):  # both counted in one Redis round trip
        return None
    return web.json_response(
        {"error": "rate_limited"}, status=429, headers={"Retry-After": str(WINDOW_SECONDS)}
    )


async def bounded_json(request: web.Request) -> web.Response | None:
    """JSON bodies nested deeper than ``bot.infra.input.MAX_JSON_DEPTH`` get 400. Any content type is
    checked, as ``request.json()`` does not look at it; forms and uploads are left to stream (the body
    is read once here; aiohttp keeps it for the handler's ``request.json()``)."""
    if request.body_exists and request.content_type not in STREAMED_FORMS and too_deep(await request.read()):
        return web.json_response({"error": "json_too_deep"}, status=400)
    return None


@web.middleware
async def guarded(request: web.Request, handler: Any) -> web.StreamResponse:
    """:func:`rate_limited`, then :func:`bounded_json`, then the handler. One middleware, not two: each
    time a handler's await resumes, it resumes through every middleware's frame as well (a web chat
    turn resumes about eight times), so the checks run before the handler in this one frame."""
    refused = await rate_limited(request)
    if refused is None:
        refused = await bounded_json(request)
    if refused is not None:  # (not ``or``: a response with no user data is falsy, a MutableMapping)
        return refused
    response: web.StreamResponse = await handler(request)
    return response


async def sandbox_pay_page(request: web.Request) -> web.Response:
    payment = html.escape(request.match_info["payment"][:32])
    page = (
        f"<!doctype html><meta charset=utf-8><title>Sandbox payment</title><link rel=stylesheet href=/static/"
        f"chat.css><main class=pay><h1>Sandbox payment {payment}</h1><p>No real money moves.</p>"
        f"<form method=post><button type=submit>Pay</button></form></main>"
    )
    return web.Response(text=page, content_type="text/html")


async def sandbox_pay(request: web.Request) -> web.Response:
    check_same_origin(request)
    runtime = request.app[RUNTIME]
    try:
        result = await runtime.container.commerce.payments.sandbox_pay(request.match_info["payment"][:32])
    except DomainError as error:
        return web.Response(status=404, text=f"{error.code}")
    if result.customer_id is not None:  # the payer's own notifications now; the relay job the rest
        await runtime.outbox_relay().drain_recipients([customer_key(result.customer_id)])
    return web.Response(
        text=f"<!doctype html><meta charset=utf-8><p>Payment {html.escape(result.outcome)}. "
        f"You can go back to the chat.</p>",
        content_type="text/html",
    )


async def sandbox_notify(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    body = await request.read()
    try:
        result = await runtime.container.commerce.payments.handle_notification(
            "sandbox", body, request.headers
        )
    except PaymentRejected as error:
        return web.json_response({"error": error.code}, status=400)
    return web.json_response({"outcome": result.outcome})


async def healthz(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    checks: dict[str, str] = {}
    try:
        async with runtime.container.commerce.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - report, don't crash the probe
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        # redis-py's one stub for sync and async clients says "awaitable or value"
        await runtime.container.redis.ping()  # type: ignore[misc]
        checks["redis"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["redis"] = f"error: {type(exc).__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return web.json_response(
        {"status": "ok" if healthy else "degraded", **checks}, status=200 if healthy else 503
    )


PALETTE = ("#e8d5c4", "#c9e4de", "#dbcdf0", "#f7d9c4", "#faedcb", "#c6def1", "#f2c6de", "#d4e09b")


async def demo_image(request: web.Request) -> web.Response:
    """A simple generated picture per product so the demo shows images without any external host."""
    name = request.match_info["name"][:40]
    colour = PALETTE[int(hashlib.sha1(name.encode()).hexdigest(), 16) % len(PALETTE)]  # noqa: S324 - not security
    label = html.escape(name.split("-")[0])
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240" viewBox="0 0 320 240">'
        f'<rect width="320" height="240" rx="16" fill="{colour}"/><circle cx="160" cy="105" r="48" '
        f'fill="#ffffff" opacity="0.7"/><text x="160" y="205" font-family="sans-serif" font-size="22" '
        f'text-anchor="middle" fill="#444">{label}</text></svg>'
    )
    return web.Response(
        text=svg, content_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"}
    )


def create_app(runtime: Runtime, extra_routes: Sequence[RouteInstaller] = ()) -> web.Application:
    """The app with its own routes, then the runtime's installers (channels first, then extensions
    given to bootstrap), then ``extra_routes``."""
    app = web.Application(client_max_size=MAX_BODY, middlewares=[guarded])
    app[FLOOD] = FloodGate(runtime.container.redis)
    app.on_response_prepare.append(add_security_headers)
    app[RUNTIME] = runtime
    observability.install(app, runtime)  # request ids, access log, /metrics (bot.observability)
    if runtime.container.settings.sandbox_payments:  # production: the sandbox's routes do not exist
        app.router.add_get("/sandbox/pay/{payment}", sandbox_pay_page)
        app.router.add_post("/sandbox/pay/{payment}", sandbox_pay)
        app.router.add_post("/payments/sandbox/notify", sandbox_notify)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/media/demo/{name}.svg", demo_image)
    for install in (*runtime.routes, *extra_routes):
        install(app)
    return app
