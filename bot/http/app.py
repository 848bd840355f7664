"""The HTTP app (aiohttp, the server stack aiogram's webhooks use): web chat, webhooks, health.

Routes:
  GET  /                       the web chat page (static, no external CDN)
  POST /api/chat               one web-chat turn: {"user", "text" | "payload"} -> replies
  GET  /api/inbox?user=...     replies pushed since (payment confirmations, shipping updates)
  GET  /sandbox/pay/{payment}  the sandbox provider's pay page; POST pays (it then calls us back)
  POST /payments/sandbox/notify  where the sandbox (or a test) delivers signed notifications
  GET  /healthz                liveness and database/Redis readiness
  GET  /media/demo/{name}.svg  placeholder product pictures for the demo catalogue
plus the Telegram and WeChat routes registered by their channel modules.
"""

from __future__ import annotations

import hashlib
import html
import json
import secrets
from importlib import resources
from typing import Any

from aiohttp import web
from sqlalchemy import text

from bot.backoffice import setup_backoffice
from bot.channels.telegram import http as telegram_http
from bot.channels.wechat import http as wechat_http
from bot.render import reply_to_json
from bot.runtime import Runtime
from commerce_core.api import DomainError, PaymentRejected
from dialogs.messages import InboundMessage

RUNTIME: web.AppKey[Runtime] = web.AppKey("runtime", Runtime)
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


@web.middleware
async def security_headers(request: web.Request, handler: Any) -> web.StreamResponse:
    response: web.StreamResponse = await handler(request)
    for key, value in SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)
    return response


def _static(name: str) -> bytes:
    return resources.files("bot.http").joinpath(f"static/{name}").read_bytes()


async def index(request: web.Request) -> web.Response:
    return web.Response(body=_static("index.html"), content_type="text/html", charset="utf-8")


async def static_file(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    types = {".js": "application/javascript", ".css": "text/css"}
    suffix = name[name.rfind(".") :]
    if suffix not in types or "/" in name or ".." in name:
        raise web.HTTPNotFound()
    try:
        body = _static(name)
    except FileNotFoundError as exc:
        raise web.HTTPNotFound() from exc
    return web.Response(body=body, content_type=types[suffix], charset="utf-8")


def _check_same_origin(request: web.Request) -> None:
    """CSRF: browsers send Origin on cross-site POSTs; refuse any that is not ours."""
    origin = request.headers.get("Origin")
    if origin and origin.split("://", 1)[-1] != request.host:
        raise web.HTTPForbidden(text="cross-site request refused")


async def chat_turn(request: web.Request) -> web.Response:
    _check_same_origin(request)
    runtime = request.app[RUNTIME]
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise web.HTTPBadRequest(text="expected JSON") from exc
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="expected a JSON object")
    user = str(body.get("user") or "")[:64]
    if not user or not all(c.isalnum() or c in "-_" for c in user):
        raise web.HTTPBadRequest(text="user must be 1-64 letters, digits, - or _")
    text_value = str(body.get("text") or "")[:4000]
    payload = body.get("payload")
    message = InboundMessage(
        channel="web",
        user_id=user,
        chat_id=user,
        text=text_value if not payload else "",
        payload=str(payload)[:200] if payload else None,
        dedup_key=str(body.get("id") or secrets.token_hex(8))[:64],
        language_hint=str(body.get("lang") or "")[:8] or None,
    )
    replies = await runtime.pipeline.handle(message)
    await runtime.relay_notifications()  # the job loop does the rest
    pushed = await runtime.inboxes["web"].drain(user)
    return web.json_response(
        {"replies": [reply_to_json(r) for r in replies] + [{**p, "pushed": True} for p in pushed]}
    )


async def inbox(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    user = request.query.get("user", "")[:64]
    if not user:
        raise web.HTTPBadRequest(text="user is required")
    return web.json_response(
        {"replies": [{**p, "pushed": True} for p in await runtime.inboxes["web"].drain(user)]}
    )


async def sandbox_pay_page(request: web.Request) -> web.Response:
    payment = html.escape(request.match_info["payment"][:32])
    page = (
        f"<!doctype html><meta charset=utf-8><title>Sandbox payment</title><link rel=stylesheet href=/static/"
        f"chat.css><main class=pay><h1>Sandbox payment {payment}</h1><p>No real money moves.</p>"
        f"<form method=post><button type=submit>Pay</button></form></main>"
    )
    return web.Response(text=page, content_type="text/html")


async def sandbox_pay(request: web.Request) -> web.Response:
    _check_same_origin(request)
    runtime = request.app[RUNTIME]
    try:
        result = await runtime.container.commerce.payments.sandbox_pay(request.match_info["payment"][:32])
    except DomainError as error:
        return web.Response(status=404, text=f"{error.code}")
    await runtime.relay_notifications()  # the job loop does the rest
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
        await runtime.container.redis.ping()
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


def create_app(runtime: Runtime) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY, middlewares=[security_headers])
    app[RUNTIME] = runtime
    app.router.add_get("/", index)
    app.router.add_get("/static/{name}", static_file)
    app.router.add_post("/api/chat", chat_turn)
    app.router.add_get("/api/inbox", inbox)
    app.router.add_get("/sandbox/pay/{payment}", sandbox_pay_page)
    app.router.add_post("/sandbox/pay/{payment}", sandbox_pay)
    app.router.add_post("/payments/sandbox/notify", sandbox_notify)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/media/demo/{name}.svg", demo_image)
    telegram_http.setup_routes(app, runtime)
    wechat_http.setup_routes(app, runtime)
    setup_backoffice(app, runtime.container.commerce, runtime.container.settings)  # the back office at /admin
    return app
