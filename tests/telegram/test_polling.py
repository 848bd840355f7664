"""Long polling feeds the same inbox and workers as the webhook."""

from __future__ import annotations

import asyncio

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.session import RecordingSession
from tests.telegram.conftest import Shopper


async def test_polling_stores_and_answers_each_update_once(
    channel: TelegramChannel, session: RecordingSession
) -> None:
    shopper = Shopper(9301)
    hello = shopper.text("你好")
    session.pending_updates = [hello, hello, shopper.text("有没有红色连衣裙")]
    stop = asyncio.Event()
    task = asyncio.create_task(channel.run_polling(stop))
    for _ in range(200):
        if len(session.of("sendMessage")) >= 2:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, timeout=10)
    assert session.calls[0].method == "deleteWebhook"
    texts = [c.params["text"] for c in session.of("sendMessage")]
    assert len(texts) == 2 and "购物助手" in texts[0] and "红色碎花连衣裙" in texts[1]
    assert await channel.inbox.backlog() == 0
