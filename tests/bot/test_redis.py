"""Both Redis flavours behave the same for what we use: the real server and the in-process store."""

from __future__ import annotations

import pytest

from bot.infra.redis import make_redis
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
