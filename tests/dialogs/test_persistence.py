"""State lives in Redis: it survives a process restart; PostgreSQL and a real Redis work end to end."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from bot.channels.console import ConsoleSession
from bot.infra.redis import make_redis
from commerce_core.clock import FakeClock
from dialogs.state import ConversationState, Frame, RedisStateStore
from nlu import BuiltinInterpreter
from tests.commerce.factory import build_shop
from tests.conftest import REDIS_URL, missing_service
from tests.dialogs.conftest import Chat
from tests.runtime_support import make_runtime


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_checkout_survives_a_restart_on_postgres_and_real_redis(
    postgres_url: str, db_url: str, tmp_path: Path, clock: FakeClock, interpreter: BuiltinInterpreter
) -> None:
    first = await make_runtime(db_url, tmp_path, clock, interpreter, redis_url=REDIS_URL)
    await build_shop(first.container.commerce)
    await first.refresh_catalogue()
    user = f"restart-{uuid.uuid4().hex[:8]}"  # a real Redis outlives test runs
    chat = Chat(ConsoleSession(first, user, language="zh-Hans", numbered_buttons=False))
    await chat.tap("sku:D2-BLK-S:1")
    await chat.say("结算")
    assert "姓名、手机号、地址" in chat.text
    await first.aclose()  # the process stops mid-checkout

    second = await make_runtime(db_url, tmp_path, clock, interpreter, redis_url=REDIS_URL)
    try:
        chat = Chat(ConsoleSession(second, user, language="zh-Hans", numbered_buttons=False))
        await chat.say("张三 13812345678 上海市浦东新区世纪大道100号")
        assert "应付：¥399.00" in chat.text  # the new process knew we were at the address step
        await chat.say("确认")
        await chat.press("sbxpay:")
        assert any("已收到订单" in r["text"] for r in chat.last if r.get("pushed"))
        # every turn gave its Redis lock back (a kept lock would hold the next message for 30 s)
        assert [k async for k in second.pipeline.redis.scan_iter(match=f"shopbot:lock:*{user}*")] == []
    finally:
        await second.aclose()


async def test_expired_or_foreign_state_restarts_gracefully() -> None:
    redis = make_redis("memory://")
    store = RedisStateStore(redis)
    await store.save("c1", ConversationState(lang="en", active=Frame(flow="checkout", step="address")))
    assert (await store.load("c1")).active is not None
    await redis.set("shopbot:state:c2", b"{not json")
    assert await store.load("c2") == ConversationState()
    await redis.set("shopbot:state:c3", ConversationState(version=99, lang="en").model_dump_json())
    restarted = await store.load("c3")
    assert restarted.lang == "en" and restarted.active is None
    assert 0 < await redis.ttl("shopbot:state:c1") <= 7 * 86400


async def test_real_redis_is_reachable_for_state() -> None:
    redis = make_redis(REDIS_URL)
    try:
        await redis.ping()
    except Exception as exc:  # noqa: BLE001
        missing_service("Redis", exc)
    store = RedisStateStore(redis, prefix="shopbot:test:state:")
    await store.save("k", ConversationState(lang="zh-Hant", shown_products=["D1", "D2"]))
    assert (await store.load("k")).shown_products == ["D1", "D2"]
    await store.delete("k")
    await redis.aclose()
