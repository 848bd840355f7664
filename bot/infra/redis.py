"""Redis clients: a real server for ``redis://`` URLs, an in-process store for ``memory://``."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis


def make_redis(url: str) -> aioredis.Redis:
    """``memory://`` gives fakeredis (Redis-compatible, in this process); anything else a real client."""
    if url.startswith("memory://"):
        import fakeredis

        server = fakeredis.FakeServer()
        client: Any = fakeredis.FakeAsyncRedis(server=server, decode_responses=False)
        return client  # type: ignore[no-any-return]
    return aioredis.from_url(url, decode_responses=False)
