"""RoundTrips (group commit for the Telegram and WeChat channels' Redis work): concurrent callers share
one round trip, each gets its own results, and the RESP written by hand answers as redis-py's pipeline
does (the Telegram channel's commands and the WeChat channel's, on a real server)."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import redis.asyncio as aioredis
from redis.exceptions import NoScriptError, ResponseError

from bot.infra.redis import make_redis
from bot.infra.roundtrips import RoundTrips, script_answer
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


async def through_redis_py(redis: aioredis.Redis, queue: Any) -> list[Any]:
    """What redis-py's own pipeline answers to the commands ``queue`` puts on it."""
    async with redis.pipeline(transaction=False) as pipe:
        queue(pipe)
        return list(await pipe.execute(raise_on_error=False))


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

    theirs = await scenario(lambda queue: through_redis_py(redis, queue))
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


async def test_the_wechat_channels_commands_answer_as_redis_py_does(redis: aioredis.Redis) -> None:
    group = RoundTrips(redis, settle_turns=1, raise_errors=True)  # as the WeChat channel's
    assert group._direct  # a plain server: RESP written by RoundTrips
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
            batch.set(f"{key}:claim", b"-", nx=True)  # refused: None, as redis-py says (not False)

        return queue

    direct = await group.run(commands("direct"))
    expected = await through_redis_py(redis, commands("pipeline"))
    assert direct == expected
    assert direct[:5] == [None, b"-", True, "值".encode(), None] and direct[-1] is None
    await redis.set(f"{base}:word", b"x", ex=60)
    results = await asyncio.gather(
        group.run(lambda batch: batch.hset(f"{base}:word", mapping={"a": "1"})),  # WRONGTYPE
        group.run(lambda batch: batch.get(f"{base}:word")),
        return_exceptions=True,
    )
    assert isinstance(results[0], ResponseError) and results[1] == [b"x"]


async def test_replies_split_across_reads_and_errors_among_them_come_back_in_order(
    redis: aioredis.Redis,
) -> None:
    """Replies after the first are taken off the reader while whole: one larger than a socket read
    (so the next ones are not there yet) and an error between two values still come back in order."""
    group = RoundTrips(redis, settle_turns=1, raise_errors=True)  # as the WeChat channel's
    base = f"shopbot:test:direct:{secrets.token_hex(4)}"
    big = secrets.token_bytes(300_000)
    await redis.set(f"{base}:big", big, ex=60)
    await redis.set(f"{base}:small", b"s", ex=60)

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
    await redis.delete(f"{base}:big", f"{base}:small")


async def test_riders_go_with_a_round_trip_someone_else_starts_or_a_kick(redis: aioredis.Redis) -> None:
    """Work that may wait (``ride``) starts no round trip: it goes with the next caller's, in front of
    it, or with the one ``kick`` starts; with no rider, a kick starts none."""
    base = f"test:rt:{uuid.uuid4().hex}"
    together = RoundTrips(redis, settle_turns=1)
    sizes = count_exchanges(together)
    together.kick()
    rider = together.add(lambda pipe: pipe.set(f"{base}:r", b"1"), ride=True)
    await asyncio.sleep(0.01)
    assert not rider.done() and sizes == []
    assert await together.run(lambda pipe: pipe.exists(f"{base}:r")) == [1]  # the rider went first
    assert await rider == [True] and sizes == [2]
    alone = together.add(lambda pipe: pipe.delete(f"{base}:r"), ride=True)
    together.kick()
    assert await alone == [1] and sizes == [2, 1]


@pytest.mark.parametrize(("turns", "trips"), [(0, [1, 1]), (1, [2])])
async def test_a_round_trip_waits_its_settle_turns_for_callers_woken_meanwhile(
    redis: aioredis.Redis, turns: int, trips: list[int]
) -> None:
    """A caller woken in the turn the round trip's task starts joins it only with a turn to settle
    (the WeChat channel's): without, it goes in the next round trip."""
    together = RoundTrips(redis, settle_turns=turns)
    sizes = count_exchanges(together)
    late: list[asyncio.Future[list[Any]]] = []
    first = together.add(lambda pipe: pipe.exists("test:rt:none"))
    asyncio.get_running_loop().call_soon(
        lambda: late.append(together.add(lambda pipe: pipe.get("test:rt:none")))
    )
    assert await first == [0]
    assert await late[0] == [None] and sizes == trips


async def test_a_script_redis_does_not_know_is_loaded_by_its_plain_call(redis: aioredis.Redis) -> None:
    """What the inbox's store and the send reservation do with a script's reply from a shared round
    trip: NOSCRIPT (Redis restarted or flushed) runs the script's own call, which loads it; any other
    error is raised, not returned as an answer."""
    key = f"test:rt:{uuid.uuid4().hex}"
    script = redis.register_script(f"-- {key}\nreturn redis.call('INCR', KEYS[1])")  # never loaded
    trips = RoundTrips(redis)
    [answer] = await trips.run(lambda pipe: pipe.evalsha(script.sha, 1, key))
    assert isinstance(answer, NoScriptError)
    assert await script_answer(answer, lambda: script(keys=[key])) == 1  # loaded and run once
    [answer] = await trips.run(lambda pipe: pipe.evalsha(script.sha, 1, key))
    assert await script_answer(answer, lambda: script(keys=[key])) == 2  # known now: no second call
    await redis.delete(key)
    await redis.hset(key, "f", "v")  # INCR on a hash: the script itself fails
    [refused] = await trips.run(lambda pipe: pipe.evalsha(script.sha, 1, key))
    assert isinstance(refused, ResponseError) and not isinstance(refused, NoScriptError)
    with pytest.raises(ResponseError):
        await script_answer(refused, lambda: script(keys=[key]))
    await redis.delete(key)
