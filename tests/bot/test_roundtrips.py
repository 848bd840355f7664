"""RoundTrips (group commit for the Telegram channel's Redis work): concurrent callers share one round
trip, each gets its own results, and the RESP written by hand answers as redis-py's pipeline does."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import redis.asyncio as aioredis
from redis.exceptions import NoScriptError, ResponseError

from bot.infra.redis import make_redis
from bot.infra.roundtrips import RoundTrips
from tests.conftest import REDIS_URL, missing_service


@pytest_asyncio.fixture
async def redis() -> AsyncIterator[aioredis.Redis]:
    client = make_redis(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:  # noqa: BLE001
        missing_service("Redis", exc)
    try:
        yield client
    finally:
        await client.aclose()


def count_exchanges(together: RoundTrips) -> list[int]:
    """How many commands each round trip of ``together`` carried."""
    sizes: list[int] = []
    real = together._send

    async def counted(commands: Any) -> list[Any]:
        sizes.append(len(commands))
        return await real(commands)

    together._send = counted  # type: ignore[method-assign]
    return sizes


async def test_the_hand_written_commands_answer_as_redis_py_does(redis: aioredis.Redis) -> None:
    base = f"test:rt:{uuid.uuid4().hex}"
    stream = f"{base}:stream"
    sha = await redis.script_load("return {1, ARGV[1], KEYS[1]}")

    async def scenario(queue_on: Any) -> list[Any]:
        await redis.delete(f"{base}:a", f"{base}:b", stream)
        entry = await redis.xadd(stream, {"c": "1"})
        await redis.xgroup_create(stream, "g", id="0")
        await redis.xreadgroup("g", "me", {stream: ">"})

        def queue(pipe: Any) -> None:
            pipe.set(f"{base}:a", 3, ex=60)
            pipe.set(f"{base}:b", b"1")
            pipe.exists(f"{base}:a", f"{base}:b", f"{base}:c")
            pipe.evalsha(sha, 1, f"{base}:a", "0.25")
            pipe.evalsha("0" * 40, 0)  # an unknown script: its own error, the others' results stand
            pipe.delete(f"{base}:b")
            pipe.xack(stream, "g", entry)
            pipe.xdel(stream, entry)

        return await queue_on(queue)

    together = RoundTrips(redis)
    sizes = count_exchanges(together)
    mine = await scenario(together.run)

    async def through_redis_py(queue: Any) -> list[Any]:
        async with redis.pipeline(transaction=False) as pipe:
            queue(pipe)
            return list(await pipe.execute(raise_on_error=False))

    theirs = await scenario(through_redis_py)
    assert sizes == [8]  # written by hand (a plain server), in one round trip
    assert isinstance(mine[4], NoScriptError) and isinstance(theirs[4], NoScriptError)
    assert mine[:4] + mine[5:] == theirs[:4] + theirs[5:]
    assert mine[:4] == [True, True, 2, [1, b"0.25", f"{base}:a".encode()]]
    assert await redis.ttl(f"{base}:a") > 0
    await redis.delete(f"{base}:a", stream)


async def test_concurrent_callers_share_a_round_trip_and_get_their_own_results(redis: aioredis.Redis) -> None:
    """A lone caller gets its round trip at once; callers arriving while it is on its way go together
    in the next one, each with its own results, in its own order."""
    base = f"test:rt:{uuid.uuid4().hex}"
    together = RoundTrips(redis)
    sizes = count_exchanges(together)

    def writes(n: int) -> Any:
        return lambda pipe: (pipe.set(f"{base}:{n}", n), pipe.exists(f"{base}:{n}", f"{base}:none"))

    assert await together.run(writes(0)) == [True, 1]
    results = await asyncio.gather(*(together.run(writes(n)) for n in range(1, 21)))
    assert results == [[True, 1]] * 20
    assert sizes[0] == 2 and sum(sizes[1:]) == 40 and len(sizes) <= 3  # 20 callers, not 20 round trips
    assert [int(v) for v in await redis.mget([f"{base}:{n}" for n in range(21)])] == list(range(21))
    await redis.delete(*(f"{base}:{n}" for n in range(21)))


async def test_a_caller_whose_commands_cannot_be_queued_fails_alone(redis: aioredis.Redis) -> None:
    base = f"test:rt:{uuid.uuid4().hex}"
    together = RoundTrips(redis)

    def broken(pipe: Any) -> None:
        pipe.set(f"{base}:bad", 1.5)  # not a Redis argument here: the caller's mistake

    fine = together.run(lambda pipe: pipe.set(f"{base}:good", b"1"))
    good, bad = await asyncio.gather(fine, together.run(broken), return_exceptions=True)
    assert good == [True] and isinstance(bad, TypeError)
    assert await redis.get(f"{base}:good") == b"1"
    await redis.delete(f"{base}:good")


async def test_a_refused_command_is_its_callers_result(redis: aioredis.Redis) -> None:
    base = f"test:rt:{uuid.uuid4().hex}"
    await redis.rpush(f"{base}:list", b"x")
    together = RoundTrips(redis)
    [wrong_type] = await together.run(lambda pipe: pipe.xack(f"{base}:list", "g", b"1-1"))
    assert isinstance(wrong_type, ResponseError)
    await redis.delete(f"{base}:list")


@pytest.mark.parametrize("started", [False, True])
async def test_callers_are_not_left_waiting_when_the_round_trip_is_cancelled(
    redis: aioredis.Redis, started: bool
) -> None:
    """The loop shutting down cancels the task that sends (before it started, or on its way): its
    callers are cancelled too, not left waiting forever for an answer."""
    together = RoundTrips(redis)
    first = asyncio.ensure_future(together.run(lambda pipe: pipe.exists("test:rt:none")))
    await asyncio.sleep(0)  # the round trip's task exists now
    flusher = together._flusher
    assert flusher is not None
    if started:
        await asyncio.sleep(0)  # it took the connection, or is writing
    later = asyncio.ensure_future(together.run(lambda pipe: pipe.exists("test:rt:none")))
    await asyncio.sleep(0)
    flusher.cancel()
    await asyncio.wait({first, later}, timeout=1.0)
    assert first.cancelled() and later.cancelled()
    assert await together.run(lambda pipe: pipe.exists("test:rt:none")) == [0]  # and it works again
