"""The update worker waits for new updates instead of spinning (issue 16; R3.3-1).

Redis answers a blocking ``XREADGROUP`` only when an entry arrives or the block runs out; the
embedded store (fakeredis, ``memory://``, what ``make demo`` runs on) wakes a blocked read on every
write to any key and answers it empty. The worker then read again at once, thousands of times while
its lanes worked, and the lanes starved: 30 updates of 10 chats took about ten seconds, and the test
of them failed now and then. A read that comes back empty long before its time now pauses."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.session import RecordingSession
from tests.telegram.conftest import Shopper, body, run_worker_until_empty


async def test_the_worker_does_not_spin_on_empty_reads_while_its_lanes_work(
    channel: TelegramChannel, session: RecordingSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    shoppers = [Shopper(9400 + n) for n in range(10)]
    updates = [s.text(w) for w in ("你好", "帮助", "购物车") for s in shoppers]
    assert all(await asyncio.gather(*(channel.ingest(body(u)) for u in updates)))
    reads = 0
    real_read = channel.inbox.redis.xreadgroup

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal reads
        reads += 1
        return await real_read(*args, **kwargs)

    monkeypatch.setattr(channel.inbox.redis, "xreadgroup", counted)
    assert await run_worker_until_empty(channel) == 0  # every update answered and acknowledged
    for shopper in shoppers:
        chat = str(shopper.chat["id"])
        assert len([c for c in session.of("sendMessage") if c.chat_id == chat]) >= 3
    assert reads < 300, f"{reads} reads of the inbox for 30 updates: the worker spun"
