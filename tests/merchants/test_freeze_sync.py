"""The catalogue sync every process runs (R4.2-3): it reloads its NLU terms once per announced change,
not on every check, and a Redis outage or a failed reload is retried on the next round instead of
ending the loop (so a process catches up as soon as Redis is back)."""

from __future__ import annotations

import asyncio

from bot.catalogue_sync import VERSION_KEY, CatalogueSync, announce_catalogue_change
from bot.infra.redis import make_redis


class FlakyRedis:
    """A Redis whose first ``failures`` reads fail like a lost connection."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.version: bytes | None = None

    async def get(self, key: str) -> bytes | None:
        assert key == VERSION_KEY
        if self.failures:
            self.failures -= 1
            raise ConnectionError("Redis went away")
        return self.version


async def test_reloads_once_per_change() -> None:
    redis = make_redis("memory://")
    reloads: list[int] = []

    async def reload() -> None:
        reloads.append(1)

    sync = CatalogueSync(redis, reload)
    assert await sync.check() is False and reloads == []  # nothing announced yet: start-up's terms hold
    await announce_catalogue_change(redis)
    assert await sync.check() is True and len(reloads) == 1
    assert await sync.check() is False and len(reloads) == 1
    await announce_catalogue_change(redis)
    assert await sync.check() is True and len(reloads) == 2


async def test_an_outage_is_retried_and_the_loop_lives_on() -> None:
    redis = FlakyRedis(failures=3)
    redis.version = b"7"
    reloaded = asyncio.Event()

    async def reload() -> None:
        reloaded.set()

    stop = asyncio.Event()
    sync = CatalogueSync(redis, reload, interval=0.01)  # type: ignore[arg-type]
    loop = asyncio.create_task(sync.run(stop))
    await asyncio.wait_for(reloaded.wait(), timeout=30)
    assert redis.failures == 0 and sync.seen == b"7" and not loop.done()
    stop.set()
    await asyncio.wait_for(loop, timeout=30)
