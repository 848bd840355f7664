"""Staff tests: the console shopper of tests/dialogs (``chat_factory``) for the shopper's side, and the
Telegram staff group (a forum supergroup) the handoff tests of this folder share: ``staffed`` is the
whole bot with a Telegram channel that mirrors handoffs into :data:`GROUP`, Telegram being a recording
Bot API session of type ``forum_session_type`` (a module needing more of Telegram overrides it)."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiogram import Bot
from aiogram.types import ForumTopic

from bot.channels.base import ChannelContext
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.session import RecordingSession
from bot.runtime import Runtime
from commerce_core.api import OperatorPolicy
from commerce_core.clock import FakeClock
from nlu import BuiltinInterpreter
from tests.commerce.factory import build_shop
from tests.dialogs.conftest import chat_factory
from tests.runtime_support import make_runtime
from tests.telegram.conftest import FakeTimer, telegram_settings

__all__ = ["GROUP", "ForumSession", "chat_factory", "feed", "sent"]

GROUP = -1001234567890


class ForumSession(RecordingSession):
    """The recording session, answering ``createForumTopic`` as a forum supergroup would."""

    def __init__(self, clock: Any) -> None:
        super().__init__(clock=clock)
        self._threads = itertools.count(101)

    def _result(self, bot: Bot, name: str, params: dict[str, Any]) -> Any:
        if name == "createForumTopic":
            return ForumTopic(message_thread_id=next(self._threads), name=params["name"], icon_color=0x6FB9F0)
        return super()._result(bot, name, params)


@pytest.fixture
def forum_session_type() -> type[ForumSession]:
    """What plays Telegram for ``staffed``; override it in a module to answer more methods."""
    return ForumSession


@pytest_asyncio.fixture
async def staffed(
    db_url: str,
    tmp_path: Path,
    clock: FakeClock,
    interpreter: BuiltinInterpreter,
    forum_session_type: type[ForumSession],
) -> AsyncIterator[tuple[Runtime, TelegramChannel, Any]]:
    """The bot with the test shop and a Telegram channel whose staff group is :data:`GROUP` (in English)."""
    timer = FakeTimer()
    session = forum_session_type(clock=timer.now)

    def telegram(context: ChannelContext) -> TelegramChannel:
        settings = telegram_settings(staff_group_id=GROUP, staff_group_language="en")
        return TelegramChannel(context, settings, session=session, timer=timer)

    rt = await make_runtime(db_url, tmp_path, clock, interpreter, channels={"telegram": telegram})
    # staff accounts are made in these tests: cheap password hashing keeps them fast
    rt.commerce.operators.policy = OperatorPolicy(hash_time_cost=1, hash_memory_kib=256, hash_parallelism=1)
    await build_shop(rt.commerce)
    await rt.refresh_catalogue()
    channel = rt.channels["telegram"]
    assert isinstance(channel, TelegramChannel)
    try:
        yield rt, channel, session
    finally:
        await rt.aclose()


async def feed(rt: Runtime, channel: TelegramChannel, *updates: dict[str, Any]) -> None:
    """Telegram delivers the updates; the bot processes them and the outbox relays what followed."""
    for update in updates:
        await channel.ingest(json.dumps(update, ensure_ascii=False).encode())
    await channel.drain()
    await rt.relay_notifications()


def sent(session: RecordingSession, chat: int, thread: int | None = None) -> list[str]:
    return [
        str(call.params.get("text", ""))
        for call in session.of("sendMessage")
        if call.params.get("chat_id") == chat
        and (thread is None or call.params.get("message_thread_id") == thread)
    ]
