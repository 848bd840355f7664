"""Redis clients: a real server for ``redis://`` URLs, an in-process store for ``memory://``."""

from __future__ import annotations

from typing import Any, Protocol, cast

import redis.asyncio as aioredis


def make_redis(url: str) -> aioredis.Redis:
    """``memory://`` gives fakeredis (Redis-compatible, in this process); anything else a real client."""
    if url.startswith("memory://"):
        import fakeredis

        server = fakeredis.FakeServer()
        client: Any = fakeredis.FakeAsyncRedis(server=server, decode_responses=False)
        return client  # type: ignore[no-any-return]
    return aioredis.from_url(url, decode_responses=False)


class AsyncKeyValue(Protocol):
    """The few commands the dialogs' state store and the core's phone verifier use (their
    ``RedisLike`` and ``KeyValueStore`` protocols are subsets of this one)."""

    async def get(self, name: str) -> Any: ...

    async def set(self, name: str, value: Any, ex: Any = None, nx: bool = False) -> Any: ...

    async def delete(self, *names: str) -> Any: ...

    async def incr(self, name: str, amount: int = 1) -> Any: ...


def as_async_store(client: aioredis.Redis | aioredis.client.Pipeline) -> AsyncKeyValue:
    """The asyncio client (or its pipeline) seen through :class:`AsyncKeyValue`.

    Why a cast: redis-py has one set of stubs for its sync and async clients, so every command is
    typed "awaitable or value"; the asyncio client always returns awaitables.
    """
    return cast(AsyncKeyValue, client)
