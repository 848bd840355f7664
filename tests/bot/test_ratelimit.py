"""The shared send-rate limiter: two limiter instances (two processes) on one Redis share one budget."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator

import fakeredis
import pytest
import pytest_asyncio
import redis.asyncio as aioredis

from bot.infra.ratelimit import Limits, SharedRateLimiter, VirtualTimer
from bot.infra.redis import make_redis
from tests.conftest import REDIS_URL, missing_service


def max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


@pytest_asyncio.fixture(params=["memory://", "real"])
async def two_clients(request: pytest.FixtureRequest) -> AsyncIterator[tuple[aioredis.Redis, aioredis.Redis]]:
    """Two separate clients of one store, as two processes would have."""
    if request.param == "real":
        first, second = make_redis(REDIS_URL), make_redis(REDIS_URL)
        try:
            await first.ping()
        except Exception as exc:  # noqa: BLE001
            missing_service("Redis", exc)
    else:
        server = fakeredis.FakeServer()
        first = fakeredis.FakeAsyncRedis(server=server)
        second = fakeredis.FakeAsyncRedis(server=server)
    try:
        yield first, second
    finally:
        await first.aclose()
        await second.aclose()


def pair(
    clients: tuple[aioredis.Redis, aioredis.Redis], timer: VirtualTimer
) -> tuple[SharedRateLimiter, SharedRateLimiter]:
    scope = f"tg:test-{uuid.uuid4().hex[:8]}"  # a budget of its own, whatever earlier runs left in Redis
    return (
        SharedRateLimiter(clients[0], timer, Limits(), scope=scope),
        SharedRateLimiter(clients[1], timer, Limits(), scope=scope),
    )


async def test_two_processes_together_send_at_most_30_per_second(
    two_clients: tuple[aioredis.Redis, aioredis.Redis],
) -> None:
    timer = VirtualTimer(start=1_000.0)
    first, second = pair(two_clients, timer)
    slots = []
    for n in range(300):  # 300 notifications to 300 chats, half from each process
        limiter = first if n % 2 else second
        slots.append(timer.now() + await limiter.reserve(str(10_000 + n)))
    assert max_in_window(slots, 1.0) <= 30  # two private budgets would allow 60
    assert max(slots) - min(slots) == pytest.approx(299 / 30, abs=0.01)  # and no slower than needed


async def test_concurrent_reservations_from_both_never_share_a_slot(
    two_clients: tuple[aioredis.Redis, aioredis.Redis],
) -> None:
    timer = VirtualTimer(start=5_000.0)
    first, second = pair(two_clients, timer)
    waits = await asyncio.gather(
        *(limiter.reserve(f"c{n}") for n in range(60) for limiter in (first, second))
    )
    slots = sorted(waits)
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert min(gaps) >= 1 / 30 - 1e-6  # each reservation is atomic: no two get the same slot


async def test_one_chat_and_one_group_are_limited_across_processes(
    two_clients: tuple[aioredis.Redis, aioredis.Redis],
) -> None:
    timer = VirtualTimer(start=2_000.0)
    first, second = pair(two_clients, timer)
    chat, group = [], []
    for n in range(8):
        wait = await (first, second)[n % 2].reserve("42")  # waits the chat's turn on the virtual clock
        chat.append(timer.now() + wait)
    assert max_in_window(chat, 1.0) <= 3  # a short burst, then about one a second
    assert chat[-1] - chat[0] >= 5 - 0.01
    for n in range(21):
        wait = await (first, second)[n % 2].reserve("-100", group=True)
        group.append(timer.now() + wait)
    assert max_in_window(group, 60.0) <= 20


async def test_a_429_seen_by_one_process_pauses_the_chat_for_the_other(
    two_clients: tuple[aioredis.Redis, aioredis.Redis],
) -> None:
    timer = VirtualTimer(start=3_000.0)
    first, second = pair(two_clients, timer)
    await first.pause("77", 7.0)
    await second.pause("77", 2.0)  # a shorter pause never shortens a longer one
    assert await second.paused_until("77") == pytest.approx(3_007.0)
    assert await second.reserve("78") < 0.1  # a chat that must wait holds up no other chat
    wait = await second.reserve("77")
    assert timer.now() + wait == pytest.approx(3_007.0, abs=0.1)
    await first.pause("79", 60.0)
    other = [timer.now() + await second.reserve(f"o{n}") for n in range(30)]
    assert max(other) - min(other) < 1.0  # 30 other chats still go out within a second
