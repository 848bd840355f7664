"""Long polling (``getUpdates``) into the same inbox and workers as the webhook.

Telegram confirms an update when we ask for the next offset, i.e. after it was stored. Kept out of
:mod:`channel` to keep that module readable; the channel's ``run_polling`` calls it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiogram.exceptions import TelegramAPIError, TelegramNetworkError, TelegramRetryAfter

if TYPE_CHECKING:
    from bot.channels.telegram.channel import TelegramChannel

log = logging.getLogger("bot.channels.telegram.channel")
ALLOWED_UPDATES = ["message", "callback_query", "pre_checkout_query", "my_chat_member"]


async def run_polling(channel: TelegramChannel, stop: asyncio.Event | None = None) -> None:
    stop = stop or asyncio.Event()
    bot = channel.bot
    await bot.delete_webhook(drop_pending_updates=False)
    worker = asyncio.create_task(channel.run_worker(stop))
    offset: int | None = None
    failures = 0
    try:
        while not stop.is_set():
            try:
                updates = await bot.get_updates(
                    offset=offset, timeout=25, allowed_updates=ALLOWED_UPDATES, request_timeout=35
                )
                failures = 0
            except TelegramRetryAfter as error:
                await asyncio.sleep(error.retry_after)
                continue
            except (TelegramNetworkError, TelegramAPIError) as error:
                failures += 1
                log.warning("telegram getUpdates failed (%s); backing off", error)
                await asyncio.sleep(min(60.0, 2.0**failures))
                continue
            for update in updates:
                body = update.model_dump_json(by_alias=True, exclude_none=True, exclude_unset=True)
                await channel.ingest(body.encode())
                offset = update.update_id + 1
            if not updates:
                await asyncio.sleep(0.1)  # a long poll returned empty: never spin
    finally:
        stop.set()
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
