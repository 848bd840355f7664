"""The HTTP side of operations: a request id and an access-log line for every request, webhook rejects
and payment callbacks counted, and ``/metrics``.

``/metrics`` is never open to the internet: on the main port it exists only with
``SHOPBOT_METRICS_TOKEN`` set and answers only ``Authorization: Bearer <token>`` (compared in constant
time); ``SHOPBOT_METRICS_PORT`` serves it without a token on a separate port (bound to
``SHOPBOT_METRICS_HOST``, 127.0.0.1 unless the private network needs otherwise).
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import time
from typing import TYPE_CHECKING, Any

import structlog
from aiohttp import web

from bot.observability.metrics import Metrics, TurnMetrics, exposition

if TYPE_CHECKING:
    from bot.runtime import Runtime

METRICS: web.AppKey[Metrics] = web.AppKey("metrics", Metrics)
_SAMPLER: web.AppKey[Any] = web.AppKey("metrics_sampler", object)
_RUNNER: web.AppKey[web.AppRunner] = web.AppKey("metrics_runner", web.AppRunner)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
access = logging.getLogger("shopbot.access")


def _webhook_routes(runtime: Runtime) -> tuple[frozenset[str], frozenset[str]]:
    """(payment callback paths, other webhook paths) as the settings name them."""
    settings = runtime.container.settings
    payments = {
        "/payments/sandbox/notify",
        "/payments/wechatpay_native/notify",
        settings.payments.alipay.notify_path,
        settings.wechat.pay_notify_path,
    }
    webhooks = {settings.telegram.webhook_path, "/wechat"}
    return frozenset(payments), frozenset(webhooks)


def request_middleware(runtime: Runtime, metrics: Metrics | None) -> Any:
    """The outermost middleware: binds ``request_id`` (the caller's ``X-Request-ID`` when it looks like
    one, else a new one) to every log line of the request, echoes it in the response, writes the
    access-log line and counts webhook rejects and payment callbacks."""
    payment_paths, webhook_paths = _webhook_routes(runtime)
    access_log = runtime.container.settings.log.access_log

    @web.middleware
    async def observe(request: web.Request, handler: Any) -> web.StreamResponse:
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _REQUEST_ID.match(given) else secrets.token_hex(8)
        bound = structlog.contextvars.bind_contextvars(request_id=request_id)
        started, status = time.perf_counter(), 500
        try:
            response: web.StreamResponse = await handler(request)
            status = response.status
            response.headers["X-Request-ID"] = request_id
            return response
        except web.HTTPException as refused:
            status = refused.status
            raise
        finally:
            path = request.path
            if metrics is not None and request.method == "POST":
                if path in payment_paths:
                    outcome = "accepted" if status < 400 else "rejected" if status < 500 else "error"
                    metrics.payment_callbacks.labels(path, outcome).inc()
                if (path in payment_paths or path in webhook_paths) and status >= 400:
                    metrics.webhook_rejects.labels(path, str(status)).inc()
            if access_log and access.isEnabledFor(logging.INFO):  # no fields built for no line
                route = request.match_info.route.resource
                # the route's pattern, never the path or query (a search may hold a phone number)
                fields = {
                    "method": request.method,
                    "route": route.canonical if route is not None else "-",
                    "status": status,
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                }
                access.info("request", extra=fields)
            structlog.contextvars.reset_contextvars(**bound)

    return observe


async def _serve_metrics(request: web.Request) -> web.Response:
    metrics = request.config_dict[METRICS]
    await request.config_dict[_SAMPLER]()
    return web.Response(body=exposition(metrics), headers={"Content-Type": "text/plain; version=0.0.4"})


def _token_gate(token: str) -> Any:
    async def guarded(request: web.Request) -> web.Response:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return web.json_response(
                {"error": "unauthorized"}, status=401, headers={"WWW-Authenticate": "Bearer"}
            )
        return await _serve_metrics(request)

    return guarded


def install(app: web.Application, runtime: Runtime) -> None:
    """Called once by :func:`bot.http.app.create_app`: the middleware, and ``/metrics`` as the
    settings allow (token on this port, or a separate port started with the app)."""
    observer = runtime.pipeline.observer
    metrics = observer.metrics if isinstance(observer, TurnMetrics) else None
    app.middlewares.insert(0, request_middleware(runtime, metrics))
    if metrics is None:
        return
    settings = runtime.container.settings.metrics
    app[METRICS] = metrics
    telegram = runtime.container.channels.get("telegram")
    inbox = getattr(telegram, "inbox", None)
    backlog = getattr(inbox, "backlog", None)

    async def sample() -> None:
        await metrics.sample(runtime.container.commerce, backlog)

    app[_SAMPLER] = sample
    if settings.token:
        app.router.add_get("/metrics", _token_gate(settings.token))
    if settings.port:
        app.on_startup.append(_start_port(metrics, sample, settings.host, settings.port))
        app.on_cleanup.append(_stop_port)


def _start_port(metrics: Metrics, sample: Any, host: str, port: int) -> Any:
    async def start(app: web.Application) -> None:
        side = web.Application()
        side[METRICS], side[_SAMPLER] = metrics, sample
        side.router.add_get("/metrics", _serve_metrics)
        runner = web.AppRunner(side, access_log=None)
        await runner.setup()
        # reuse_port: several processes of one host may all listen; any answers for all of them
        await web.TCPSite(runner, host, port, reuse_port=True).start()
        app[_RUNNER] = runner

    return start


async def _stop_port(app: web.Application) -> None:
    runner = app.get(_RUNNER)
    if runner is not None:
        await runner.cleanup()
