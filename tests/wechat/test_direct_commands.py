"""On a real Redis server the channel's shared round trips are written as RESP (``RoundTrips``, not
redis-py's pipeline): a safe-mode conversation answered and de-duplicated as on the pipeline. (That the
written commands reply as redis-py's, errors kept with their caller, is in tests/bot/test_roundtrips.py.)"""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
import xmltodict

from bot.channels.wechat.pending import PENDING
from commerce_core.clock import FakeClock
from nlu import BuiltinInterpreter
from tests.commerce.factory import build_shop
from tests.conftest import REDIS_URL
from tests.runtime_support import make_runtime
from tests.wechat.conftest import FakeWeChat, WeChatWorld, fake_wechat_channel, open_world, wechat_settings


@pytest_asyncio.fixture
async def real_world(
    db_url: str, tmp_path: Path, clock: FakeClock, interpreter: BuiltinInterpreter
) -> AsyncIterator[WeChatWorld]:
    fake = FakeWeChat()
    channels = {"wechat": fake_wechat_channel(fake, wechat_settings())}
    runtime = await make_runtime(db_url, tmp_path, clock, interpreter, REDIS_URL, channels=channels)
    await build_shop(runtime.container.commerce)
    await runtime.refresh_catalogue()
    world, client = await open_world(runtime, clock, fake)
    world.official.msg_ids = random.randrange(10**18, 9 * 10**18)  # apart from earlier runs' messages
    try:
        yield world
    finally:
        await client.close()
        await runtime.aclose()


async def test_a_sealed_conversation_on_a_real_server(real_world: WeChatWorld) -> None:
    channel, official = real_world.channel, real_world.official
    assert channel.group._direct
    user = f"oReal{secrets.token_hex(3)}"
    status, first = await official.post_xml(official.text_xml(user, "你好"), encrypted=True)
    assert status == 200
    menu = str(xmltodict.parse(first)["xml"]["Content"])
    assert "购物助手" in menu and "1. " in menu
    again = official.text_xml(user, "1")  # presses the first button shown
    answers = await asyncio.gather(*(official.post_xml(again, encrypted=True) for _ in range(3)))
    replies = [xmltodict.parse(text)["xml"]["Content"] for status, text in answers if text != "success"]
    assert all(status == 200 for status, _text in answers) and replies
    assert len(set(replies)) == 1 and replies[0] != menu  # one turn ran; its answer, not the menu again
    await asyncio.sleep(0.05)
    assert not await channel.redis.hexists(PENDING, "msg:" + xmltodict.parse(again)["xml"]["MsgId"])
    await channel.drain()
