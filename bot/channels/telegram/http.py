"""Telegram on the HTTP app: ``POST /telegram/webhook``.

The webhook answers 200 only after the update is stored in the durable inbox (a crash afterwards loses
nothing; a failure before makes Telegram resend). Calls without the secret token get 401, with a wrong
one 403 (compared in constant time); bodies that are not an Update get 400. The channel's update
worker (a background job the serving process runs) processes the inbox.
"""

from __future__ import annotations

import hmac
import logging
from typing import TYPE_CHECKING

from aiohttp import web

from bot.channels.telegram.inbox import BadUpdate

if TYPE_CHECKING:
    from bot.channels.telegram.channel import TelegramChannel

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


def install_webhook(app: web.Application, channel: TelegramChannel) -> None:
    """Mount the webhook for ``channel`` (the channel refuses webhook mode without a secret token)."""
    secret = channel.settings.webhook_secret
    assert secret, "TelegramChannel refuses webhook mode without a secret"
    expected = secret.encode()

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
