"""A slow Telegram chat does not hold another chat's replies back (issue 16; R3.3-1, R3.3-5).

The Bot API answers one chat slowly (here: not at all until the test lets it), as a chat under
Telegram's flood control or a slow connection to Telegram does. The update worker runs as in
production (``run_worker``: inbox on a real Redis, per-chat lanes, batched acknowledgements). Another
chat that writes afterwards must get its answer while the slow chat is still waiting, i.e. within a
bound that does not depend on how slow the slow chat is; the slow chat's own updates still go out
in order, each once, when its Bot API answers again.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from aiogram import Bot
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType

from bot.channels.base import ChannelContext
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.session import RecordingSession
from bot.runtime import Runtime
from commerce_core.clock import FakeClock
from tests.commerce.factory import build_shop
from tests.conftest import REDIS_URL
from tests.runtime_support import make_runtime
from tests.telegram.conftest import FakeTimer, Shopper, body, telegram_settings

#: chats of their own on the shared test Redis (its turn marks outlive a run)
_BASE = 9_000_000_000 + secrets.randbelow(10**8) * 10
SLOW_CHAT, FAST_CHAT, OTHER_SLOW_CHAT = _BASE + 1, _BASE + 2, _BASE + 3
#: generous: the answer of a chat that is not slow is one turn's work, seconds at most on a loaded
#: machine; the slow chat is held for as long as the test runs
FAST_ANSWER_WITHIN = 30.0


class SlowForSomeChats(RecordingSession):
    """Records calls like :class:`RecordingSession`; calls to the chats in ``slow`` wait until
    :attr:`release` is set (a Bot API that answers those chats late)."""

    def __init__(self, slow: set[int]) -> None:
        super().__init__()
        self.slow = {str(chat) for chat in slow}
        self.release = asyncio.Event()
        self.waiting = 0

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - aiogram's signature
    ) -> TelegramType:
        if str(getattr(method, "chat_id", "")) in self.slow and not self.release.is_set():
            self.waiting += 1
            await self.release.wait()
        return await super().make_request(bot, method, timeout)

    def sent_to(self, chat: int) -> list[Any]:
        return [c for c in self.calls if c.chat_id == str(chat) and c.method.startswith("send")]


@pytest_asyncio.fixture
async def world(
    tmp_path: Path, clock: FakeClock, interpreter: Any, sqlite_template: Path
) -> AsyncIterator[tuple[Runtime, TelegramChannel, SlowForSomeChats]]:
    """The bot with the test shop on a real Redis (the inbox is a Redis stream), a bot token of its
    own (its own inbox), and the update worker running."""
    shutil.copy(sqlite_template, tmp_path / "shop.db")
    session = SlowForSomeChats({SLOW_CHAT, OTHER_SLOW_CHAT})
    token = f"{secrets.randbelow(10**9) + 10**9}:TEST-slow-chat"

    def telegram(context: ChannelContext) -> TelegramChannel:
        settings = telegram_settings(bot_token=token, claim_idle_seconds=60.0)
        return TelegramChannel(context, settings, session=session, timer=FakeTimer())

    url = f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}"
    runtime = await make_runtime(
        url, tmp_path, clock, interpreter, REDIS_URL, channels={"telegram": telegram}
    )
    await build_shop(runtime.container.commerce)
    await runtime.refresh_catalogue()
    channel = runtime.channels["telegram"]
    assert isinstance(channel, TelegramChannel)
    stop = asyncio.Event()
    worker = asyncio.create_task(channel.run_worker(stop))
    try:
        yield runtime, channel, session
    finally:
        session.release.set()
        stop.set()
        await asyncio.wait_for(worker, 30)
        await channel.inbox.redis.delete(channel.inbox.stream)
        await runtime.aclose()


async def until(check: Any, within: float, what: str) -> float:
    """Seconds until ``check()`` holds (polling); fails after ``within`` seconds."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > within:
            raise AssertionError(f"{what} not within {within:.0f} s")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def test_a_slow_chat_does_not_hold_back_another_chats_reply(
    world: tuple[Runtime, TelegramChannel, SlowForSomeChats],
) -> None:
    """R3.3-1: two slow chats (their Bot API answers wait) and a third that writes after them: the third
    gets its answer while both slow chats are still waiting; the slow chats' answers go out, in
    order and once each, when the Bot API answers again."""
    _runtime, channel, session = world
    slow, other_slow, fast = Shopper(SLOW_CHAT), Shopper(OTHER_SLOW_CHAT), Shopper(FAST_CHAT)
    for update in (slow.text("你好"), other_slow.text("你好"), slow.text("有没有连衣裙")):
        assert await channel.ingest(body(update))
    await until(lambda: session.waiting >= 2, FAST_ANSWER_WITHIN, "both slow chats' first sends")

    assert await channel.ingest(body(fast.text("你好")))
    await until(lambda: session.sent_to(FAST_CHAT), FAST_ANSWER_WITHIN, "the other chat's answer")
    assert not session.sent_to(SLOW_CHAT) and not session.sent_to(OTHER_SLOW_CHAT)  # still waiting

    session.release.set()
    await until(lambda: len(session.sent_to(SLOW_CHAT)) >= 2, FAST_ANSWER_WITHIN, "the slow chat's answers")
    await until(lambda: session.sent_to(OTHER_SLOW_CHAT), FAST_ANSWER_WITHIN, "the other slow chat")
    texts = [str(c.params.get("text") or c.params.get("caption") or "") for c in session.sent_to(SLOW_CHAT)]
    greeting = [str(c.params.get("text", "")) for c in session.sent_to(FAST_CHAT)]
    assert texts[: len(greeting)] == greeting, (texts, greeting)  # "你好" answered first: order kept
    assert len(texts) > len(greeting), texts  # then the search
    assert len(texts) == len(set(texts)), texts  # nothing sent twice
    await until(lambda: channel._acks is None or not channel._acks.unsent, 10, "acknowledgements")
    assert await channel.inbox.backlog() == 0  # every update acknowledged and deleted
