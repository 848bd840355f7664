"""On a real Redis server the channel's shared round trips are written as RESP by ``GroupCommit``
(not redis-py's pipeline): the same replies as redis-py's, errors kept with their caller, and a
safe-mode conversation answered and de-duplicated as on the pipeline."""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
import redis.asyncio as aioredis
import xmltodict
from redis.exceptions import ResponseError

from bot.channels.wechat.batch import GroupCommit
from bot.channels.wechat.pending import PENDING
from bot.infra.redis import make_redis
from commerce_core.clock import FakeClock
from nlu import BuiltinInterpreter
from tests.commerce.factory import build_shop
from tests.conftest import REDIS_URL, missing_service
from tests.runtime_support import make_runtime
from tests.wechat.conftest import FakeWeChat, WeChatWorld, fake_wechat_channel, open_world, wechat_settings


@pytest_asyncio.fixture
async def server() -> AsyncIterator[aioredis.Redis]:
    redis = make_redis(REDIS_URL)
    try:
        await redis.ping()
    except Exception as exc:  # noqa: BLE001
        missing_service("Redis", exc)
    try:
        yield redis
    finally:
        await redis.aclose()


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


async def test_direct_commands_reply_as_redis_pys_pipeline(server: aioredis.Redis) -> None:
    group = GroupCommit(server)
    assert group._direct  # a plain server: RESP written by GroupCommit
    base = f"shopbot:test:direct:{secrets.token_hex(4)}"

    def commands(tag: str) -> Any:
        def queue(batch: Any) -> None:
            key = f"{base}:{tag}"
            batch.set(f"{key}:claim", b"-", nx=True, ex=60, get=True)
            batch.set(f"{key}:claim", b"-", nx=True, ex=60, get=True)
            batch.set(f"{key}:plain", "值".encode(), ex=60)
            batch.get(f"{key}:plain")
            batch.get(f"{key}:missing")
            batch.hsetnx(f"{key}:hash", "a", "1")
            batch.hsetnx(f"{key}:hash", "a", "2")
            batch.hset(f"{key}:hash", mapping={"since": "5", "sent": "0"})
            batch.expire(f"{key}:hash", 60)
            batch.expire(f"{key}:missing", 60)
            batch.hdel(f"{key}:hash", "a", "b")
            batch.delete(f"{key}:plain", f"{key}:missing")

        return queue

    direct = await group.run(commands("direct"))
    async with server.pipeline(transaction=False) as batch:
        commands("pipeline")(batch)
        expected = await batch.execute()
    assert direct == expected
    assert direct[:5] == [None, b"-", True, "值".encode(), None]
    await server.set(f"{base}:word", b"x", ex=60)
    results = await asyncio.gather(
        group.run(lambda batch: batch.hset(f"{base}:word", mapping={"a": "1"})),  # WRONGTYPE
        group.run(lambda batch: batch.get(f"{base}:word")),
        return_exceptions=True,
    )
    assert isinstance(results[0], ResponseError) and results[1] == [b"x"]


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


async def test_replies_split_across_reads_and_errors_among_them_come_back_in_order(
    server: aioredis.Redis,
) -> None:
    """Replies after the first are taken off the reader while whole: one larger than a socket read
    (so the next ones are not there yet) and an error between two values still come back in order."""
    group = GroupCommit(server)
    base = f"shopbot:test:direct:{secrets.token_hex(4)}"
    big = secrets.token_bytes(300_000)
    await server.set(f"{base}:big", big, ex=60)
    await server.set(f"{base}:small", b"s", ex=60)

    def queue(batch: Any) -> None:
        batch.get(f"{base}:small")
        batch.get(f"{base}:big")
        batch.get(f"{base}:small")
        batch.expire(f"{base}:small", 60)

    def failing(batch: Any) -> None:
        batch.hset(f"{base}:small", mapping={"a": "1"})  # WRONGTYPE, not the first reply

    results = await asyncio.gather(
        group.run(queue), group.run(failing), group.run(queue), return_exceptions=True
    )
    assert results[0] == results[2] == [b"s", big, b"s", True]
    assert isinstance(results[1], ResponseError)
    assert await group.run(lambda batch: batch.get(f"{base}:small")) == [b"s"]  # the connection is fine
    await server.delete(f"{base}:big", f"{base}:small")
