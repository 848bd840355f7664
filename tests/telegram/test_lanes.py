"""The update worker's lanes: a failed update is retried (acknowledged only after success), a chat's
updates keep their order, and one slow chat never holds up another."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.inbox import StoredUpdate
from bot.channels.telegram.lanes import ChatLanes
from bot.channels.telegram.session import RecordingSession
from bot.runtime import Runtime
from dialogs.messages import InboundMessage
from tests.telegram.conftest import SECRET, Shopper, body

Client = TestClient[web.Request, web.Application]
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}


def entry(n: int, chat: str) -> StoredUpdate:
    return StoredUpdate(f"{n}-0".encode(), chat, b"{}")


async def test_a_slow_chat_does_not_hold_up_another_and_each_chat_keeps_its_order() -> None:
    done: list[tuple[str, float]] = []
    started = time.monotonic()

    async def work(item: StoredUpdate) -> bool:
        if item.chat == "slow":
            await asyncio.sleep(1.0)  # its replies are being retried (flood control)
        done.append((item.entry_id.decode(), time.monotonic() - started))
        return True

    lanes = ChatLanes(work, parallel=4)
    for n, chat in enumerate(["slow", "slow", "fast", "fast"]):
        lanes.add(entry(n, chat))
    await lanes.join()
    finished = dict(done)
    assert finished["2-0"] < 0.5 and finished["3-0"] < 0.5  # the other chat did not wait 1-2 s
    assert [name for name, _ in done if name in ("0-0", "1-0")] == ["0-0", "1-0"]
    assert lanes.busy == 0


async def test_a_failed_update_is_retried_in_place_before_the_chats_next_one() -> None:
    attempts: list[str] = []

    async def work(item: StoredUpdate) -> bool:
        attempts.append(item.entry_id.decode())
        return not (item.entry_id == b"0-0" and attempts.count("0-0") < 3)

    lanes = ChatLanes(work, parallel=2, pauses=(0.01,))
    lanes.add(entry(0, "a"))
    lanes.add(entry(1, "a"))
    lanes.add(entry(0, "a"))  # read again while in flight: not handed out twice
    await lanes.join()
    assert attempts == ["0-0", "0-0", "0-0", "1-0"]


async def test_an_update_whose_turn_failed_stays_in_the_inbox_and_is_answered_on_retry(
    client: Client, channel: TelegramChannel, session: RecordingSession, runtime: Runtime
) -> None:
    pipeline = runtime.pipeline
    real = pipeline._handle_locked
    failures: list[int] = []

    async def flaky(message: InboundMessage, state: Any) -> Any:
        if not failures:
            failures.append(1)
            raise RuntimeError("the dialog broke this once")
        return await real(message, state)

    pipeline._handle_locked = flaky  # type: ignore[method-assign]
    update = body(Shopper(8301).text("你好"))
    assert (await client.post("/telegram/webhook", data=update, headers=HEADERS)).status == 200
    assert await channel.drain() == 1
    assert failures == [1]
    greetings = [c for c in session.of("sendMessage") if c.chat_id == "8301"]
    assert len(greetings) == 1 and "购物助手" in greetings[0].params["text"]
    assert await channel.inbox.backlog() == 0  # acknowledged (and deleted) only now
    assert (await client.post("/telegram/webhook", data=update, headers=HEADERS)).status == 200
    assert await channel.drain() == 0 and len(session.of("sendMessage")) == len(greetings)


async def test_the_last_replys_count_rides_with_the_acknowledgement_through_a_redis_outage(
    client: Client,
    channel: TelegramChannel,
    session: RecordingSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The update worker writes a turn's last sent-part count with the update's acknowledgement (one
    round trip); Redis refuses that once: both are kept and written on the next try, so the update
    is acknowledged and a retry of it (a crash before the acknowledgement) sends nothing again."""
    inbox, refused = channel.inbox, list[int]()
    real_ack = inbox.ack

    async def flaky_ack(*entry_ids: bytes, writes: Any = ()) -> None:
        if not refused:
            refused.append(len(writes))
            raise RedisConnectionError("Redis is restarting")
        await real_ack(*entry_ids, writes=writes)

    monkeypatch.setattr(inbox, "ack", flaky_ack)
    monkeypatch.setattr("bot.channels.telegram.acks.RETRY_SECONDS", 0.01)
    update = body(Shopper(8401).text("你好"))
    assert (await client.post("/telegram/webhook", data=update, headers=HEADERS)).status == 200
    stop = asyncio.Event()
    worker = asyncio.create_task(channel.run_worker(stop))
    for _ in range(500):
        if refused and await inbox.backlog() == 0:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await worker
    assert refused == [1]  # the count went with the refused acknowledgement
    assert await inbox.backlog() == 0
    greetings = [c for c in session.of("sendMessage") if c.chat_id == "8401"]
    assert len(greetings) == 1
    assert await channel.process(update)  # as a retry would: the stored replies, all counted sent
    assert [c for c in session.of("sendMessage") if c.chat_id == "8401"] == greetings
