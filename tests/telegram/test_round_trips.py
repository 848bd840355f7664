"""Concurrent chats share Redis round trips (issue 16): the webhook's stores, the send reservations and
their riders, the acknowledgements go together (``bot.infra.roundtrips``), and nothing is lost,
duplicated or reordered by it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from aiogram.methods import SendMessage

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.render import Call, Outgoing
from bot.channels.telegram.session import RecordingSession
from tests.telegram.conftest import Shopper, body, run_worker_until_empty


class RoundTripCounter:
    """Every round trip a Redis client makes from now on: a command, or a pipeline's execution."""

    def __init__(self, redis: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.trips: list[list[str]] = []
        real_command, real_pipeline = redis.execute_command, redis.pipeline

        async def command(*args: Any, **options: Any) -> Any:
            self.trips.append([str(args[0]).upper()])
            return await real_command(*args, **options)

        def pipeline(*args: Any, **kwargs: Any) -> Any:
            batch = real_pipeline(*args, **kwargs)
            execute = batch.execute

            async def counted(*a: Any, **k: Any) -> Any:
                if batch.command_stack:
                    self.trips.append([str(c[0][0]).upper() for c in batch.command_stack])
                return await execute(*a, **k)

            batch.execute = counted
            return batch

        monkeypatch.setattr(redis, "execute_command", command)
        monkeypatch.setattr(redis, "pipeline", pipeline)

    def clear(self) -> None:
        self.trips.clear()

    def carrying(self, command: str) -> Iterator[list[str]]:
        return (trip for trip in self.trips if command in trip)


@pytest.fixture
def trips(channel: TelegramChannel, monkeypatch: pytest.MonkeyPatch) -> RoundTripCounter:
    return RoundTripCounter(channel.redis, monkeypatch)


async def test_updates_arriving_together_are_stored_in_one_round_trip_each_once(
    channel: TelegramChannel, trips: RoundTripCounter
) -> None:
    shoppers = [Shopper(9100 + n) for n in range(10)]
    updates = [body(s.text("你好")) for s in shoppers]
    assert await channel.ingest(body(Shopper(9199).text("你好")))  # Redis learns the script first
    trips.clear()
    assert await asyncio.gather(*(channel.ingest(u) for u in updates)) == [True] * 10
    assert len(trips.trips) == 1 and trips.trips[0].count("EVALSHA") == 10
    # Telegram sends them again (it saw no 200 in time): nothing stored twice
    assert await asyncio.gather(*(channel.ingest(u) for u in updates)) == [False] * 10
    assert await channel.inbox.backlog() == 11


async def test_reservations_of_chats_sending_at_once_share_a_round_trip(
    channel: TelegramChannel, trips: RoundTripCounter, session: RecordingSession
) -> None:
    chats = [str(9200 + n) for n in range(10)]

    def reply(chat: str) -> list[Outgoing]:
        return [Outgoing(Call(SendMessage, {"chat_id": int(chat), "text": f"hi {chat}"}))]

    await channel.outbound.send_all(reply("9299"), "9299", check_blocked=False)  # the script is known
    trips.clear()
    riders = {c: [lambda pipe, c=c: pipe.delete(f"shopbot:tg:blocked:{c}")] for c in chats}
    await asyncio.gather(
        *(channel.outbound.send_all(reply(c), c, check_blocked=False, riders=riders[c]) for c in chats)
    )
    reserving = list(trips.carrying("EVALSHA"))
    assert len(reserving) == 1 and reserving[0].count("EVALSHA") == 10 and reserving[0].count("DEL") == 10
    assert sorted(str(call.chat_id) for call in session.of("sendMessage")) == [*chats, "9299"]


async def test_chats_at_once_through_the_worker_are_each_answered_once_in_their_order(
    channel: TelegramChannel, session: RecordingSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ten chats write three messages each, all at once; with their Redis work shared between them,
    the update worker still handles every message once, each chat's in order, and acknowledges all."""
    shoppers = [Shopper(9300 + n) for n in range(10)]
    words = ["你好", "帮助", "购物车"]
    handled: dict[str, list[str]] = {}
    pipeline = channel.runtime.pipeline
    real_handle = pipeline.handle

    async def handle(message: Any, **kwargs: Any) -> Any:
        handled.setdefault(message.chat_id, []).append(message.text)
        await asyncio.sleep(0)  # let the other chats' work interleave
        return await real_handle(message, **kwargs)

    monkeypatch.setattr(pipeline, "handle", handle)
    updates = [s.text(w) for w in words for s in shoppers]
    assert all(await asyncio.gather(*(channel.ingest(body(u)) for u in updates)))
    assert await run_worker_until_empty(channel, seconds=10) == 0
    assert handled == {str(s.chat["id"]): words for s in shoppers}
    for shopper in shoppers:
        chat = str(shopper.chat["id"])
        assert len([c for c in session.of("sendMessage") if c.chat_id == chat]) >= 3
