"""Both Redis flavours behave the same for what we use: the real server and the in-process store."""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import time

import pytest

from bot.infra.redis import make_redis, skip_disabled_metrics
from tests.conftest import REDIS_URL, missing_service


@pytest.mark.parametrize("url", ["memory://", "real"])
async def test_redis_round_trip_with_expiry_and_atomic_ops(url: str) -> None:
    client = make_redis(REDIS_URL if url == "real" else url)
    try:
        try:
            await client.ping()
        except Exception as exc:  # noqa: BLE001
            missing_service("Redis", exc)
        key = "shopbot:test:key"
        await client.delete(key)
        assert await client.set(key, b"v1", nx=True, ex=30)
        assert not await client.set(key, b"v2", nx=True, ex=30)  # de-duplication primitive
        assert await client.get(key) == b"v1"
        assert 0 < await client.ttl(key) <= 30
        assert await client.incr("shopbot:test:counter") >= 1
        await client.delete(key, "shopbot:test:counter")
    finally:
        await client.aclose()


async def test_a_reply_left_on_a_pooled_connection_is_never_read_as_the_next_answer() -> None:
    """A command cancelled after it was sent leaves its reply on the connection; the pool's stale-data
    check (our non-waiting one, ``bot.infra.redis_parser``) must see it, whether the reply already sits
    in the stream's buffer or still in the socket, and reconnect instead of handing it to the next
    command."""
    client = make_redis(REDIS_URL)
    try:
        await client.set("shopbot:test:stale", b"mine", ex=30)
        pool = client.connection_pool
        for settle in (0.05, 0.0):  # 0.05: the loop has read the reply; 0.0: it may still be in the socket
            connection = await pool.get_connection()
            await connection.send_command("ECHO", "left-behind")
            if settle:
                await asyncio.sleep(settle)
            else:  # the reply is on its way; give the kernel a moment without running the event loop
                time.sleep(0.02)  # noqa: ASYNC251 (on purpose: the loop must not read it)
            await pool.release(connection)
            assert await client.get("shopbot:test:stale") == b"mine"
            assert await client.echo("next") == b"next"
    finally:
        await client.delete("shopbot:test:stale")
        await client.aclose()


async def test_commands_skip_redis_pys_telemetry_lookups_while_it_is_off() -> None:
    """redis-py asks for its telemetry provider on every command even with telemetry off; our client
    skips those lookups (cProfile call counts), and the commands still answer."""
    client = make_redis(REDIS_URL)
    try:
        try:
            await client.ping()
        except Exception as exc:  # noqa: BLE001
            missing_service("Redis", exc)
        profile = cProfile.Profile()
        profile.enable()
        for n in range(50):
            await client.set("shopbot:test:metrics", str(n).encode())
            assert await client.get("shopbot:test:metrics") == str(n).encode()
        profile.disable()
        lookups = [
            calls
            for (path, _, name), (_, calls, *_) in pstats.Stats(profile).stats.items()  # type: ignore[attr-defined]
            if "observability" in path and name in {"get_provider_manager", "_get_or_create_collector"}
        ]
        # unpatched, each of these 100 commands asks at least five times (500+); the profile sees the
        # whole event loop, so another test's background task may add a few of its own
        assert sum(lookups) < 20
        await client.delete("shopbot:test:metrics")
    finally:
        await client.aclose()


def test_telemetry_someone_switched_on_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """With redis-py's telemetry initialised, its per-command hooks keep recording."""
    import redis.asyncio.client as client_module
    from redis.observability import providers

    async def recording(*args: object, **kwargs: object) -> None:
        """What redis-py's own hook would be (the real one may already be skipped in this process)."""

    monkeypatch.setattr(client_module, "record_operation_duration", recording)
    monkeypatch.setattr(providers.ObservabilityInstance, "get_provider_manager", lambda self: object())
    assert not skip_disabled_metrics()
    assert client_module.record_operation_duration is recording
    monkeypatch.undo()
    assert skip_disabled_metrics()  # off again: skipped
    assert client_module.record_operation_duration is not recording
