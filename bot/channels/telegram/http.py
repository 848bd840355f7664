"""Telegram on the HTTP app: ``POST /telegram/webhook`` and the polling entry point.

The webhook answers 200 only after the update is stored in the durable inbox (a crash afterwards loses
nothing; a failure before makes Telegram resend). Calls without the secret token get 401, with a wrong
one 403 (compared in constant time); bodies that are not an Update get 400. Workers started with the
app process the inbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging

from aiohttp import web

from bot.channels.telegram.channel import BadUpdate, TelegramChannel
from bot.channels.telegram.settings import TelegramSettings
from bot.runtime import Runtime
from bot.settings import ConfigurationError

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
CHANNEL_KEY: web.AppKey[TelegramChannel] = web.AppKey("telegram_channel", TelegramChannel)
WORKER_KEY: web.AppKey[asyncio.Task[None]] = web.AppKey("telegram_worker", asyncio.Task)
STOP_KEY: web.AppKey[asyncio.Event] = web.AppKey("telegram_stop", asyncio.Event)


def setup_routes(app: web.Application, runtime: Runtime) -> None:
    """Register the Telegram webhook on ``app`` when Telegram is configured for webhook mode."""
    settings = TelegramSettings()
    if not settings.webhook_mode:
        return
    install(app, TelegramChannel(runtime, settings))


def install(app: web.Application, channel: TelegramChannel, *, run_workers: bool = True) -> None:
    """Mount the webhook for ``channel``; refuses webhook mode without a secret token."""
    secret = channel.settings.webhook_secret
    if not secret:
        raise ConfigurationError(
            "Telegram webhook mode needs SHOPBOT_TELEGRAM_WEBHOOK_SECRET (Telegram sends it back in "
            f"{SECRET_HEADER}); refusing to accept unauthenticated updates"
        )
    expected = secret.encode()
    app[CHANNEL_KEY] = channel

    async def webhook(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            return web.Response(status=401, text="missing secret token")
        if not hmac.compare_digest(given.encode(), expected):
            return web.Response(status=403, text="wrong secret token")
        body = await request.read()
        try:
            await channel.ingest(body)
        except BadUpdate as error:
            return web.Response(status=400, text=str(error))
        return web.Response(status=200)

    app.router.add_post(channel.settings.webhook_path, webhook)

    async def start(app: web.Application) -> None:
        if run_workers:
            stop = asyncio.Event()
            app[STOP_KEY] = stop
            app[WORKER_KEY] = asyncio.create_task(channel.run_worker(stop))

    async def cleanup(app: web.Application) -> None:
        if STOP_KEY in app:
            app[STOP_KEY].set()
            worker = app[WORKER_KEY]
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(worker, timeout=5)
        await channel.aclose()

    app.on_startup.append(start)
    app.on_cleanup.append(cleanup)


async def start_polling(runtime: Runtime) -> object | None:
    """Start long polling when a bot token is configured and no webhook secret (the demo calls this)."""
    settings = TelegramSettings()
    if not settings.polling_mode:
        return None
    channel = TelegramChannel(runtime, settings)

    async def run() -> None:
        try:
            await channel.run_polling()
        finally:
            await channel.aclose()

    log.info("telegram: long polling")
    return asyncio.create_task(run())
