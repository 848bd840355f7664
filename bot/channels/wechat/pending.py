"""Messages WeChat handed us that are not answered yet, kept in Redis until they are.

Why: WeChat tries a message three times within about 15 s and then gives up for good. A process that
took a message and died (kill -9, OOM, a deploy) before answering leaves nobody to answer it if its
restart takes longer than WeChat's retries; so the raw message is written down on arrival and struck
off once answered (passive reply or customer-service messages). A recovery job in every process
answers entries older than any live process could still be working on (the turn lease plus WeChat's
retry window) with customer-service messages; the turn's processing mark and the push's sent mark keep
two processes from answering twice.
"""

from __future__ import annotations

import json
import time

import redis.asyncio as aioredis

PENDING = "shopbot:wechat:pending"


class PendingMessages:
    """A Redis hash: delivery key -> {"xml": the decrypted message, "at": when it arrived}."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def add(self, dedup_key: str, xml: str) -> None:
        entry = json.dumps({"xml": xml, "at": time.time()}, ensure_ascii=False)
        await self.redis.hsetnx(PENDING, dedup_key, entry)  # type: ignore[misc]

    async def done(self, dedup_key: str) -> None:
        await self.redis.hdel(PENDING, dedup_key)  # type: ignore[misc]

    async def overdue(self, older_than: float, limit: int = 100) -> list[tuple[str, str]]:
        """(delivery key, xml) of entries that arrived more than ``older_than`` seconds ago."""
        raw: dict[bytes, bytes] = await self.redis.hgetall(PENDING)  # type: ignore[misc]
        cutoff = time.time() - older_than
        found: list[tuple[str, str]] = []
        for key, value in raw.items():
            entry = json.loads(value)
            if float(entry.get("at", 0)) < cutoff:
                found.append((key.decode(), str(entry["xml"])))
        return found[:limit]
