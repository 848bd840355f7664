"""How a notification leaves: a :class:`Sender` per channel, and the console/web chat inbox."""

from __future__ import annotations

import json
from typing import Any, Protocol

import redis.asyncio as aioredis

from bot.render import reply_to_json
from dialogs.messages import Reply


class Sender(Protocol):
    """Pushes replies to one user of a channel; pushing again with the same ``dedup_key`` sends
    nothing more (the outbox delivers at least once). Raises when the channel could not take them,
    so the outbox retries later."""

    async def push(self, user_id: str, replies: list[Reply], dedup_key: str) -> None: ...


#: how many pushed replies one fetch takes at most (a client polls again for the rest)
DRAIN_BATCH = 100


class InboxSender:
    """Console and web chat: pushed replies wait in a Redis list until the client fetches them.

    A fetch pops (``LPOP key count``, one atomic command): several tabs of one web session polling at
    once each get different replies, and a reply pushed between two commands is never deleted unread
    (reading with LRANGE and then DELETE did both)."""

    def __init__(self, redis: aioredis.Redis, channel: str) -> None:
        self._redis = redis
        self._channel = channel

    def key(self, user_id: str) -> str:
        return f"shopbot:inbox:{self._channel}:{user_id}"

    async def push(self, user_id: str, replies: list[Reply], dedup_key: str) -> None:
        if not await self._redis.set(
            f"shopbot:pushed:{dedup_key}:{self._channel}:{user_id}", b"1", nx=True, ex=7 * 86400
        ):
            return
        if replies:  # one RPUSH: a reader never sees half of one notification's replies
            encoded = [json.dumps(reply_to_json(reply)).encode() for reply in replies]
            await self._redis.rpush(self.key(user_id), *encoded)  # type: ignore[misc]

    async def drain(self, user_id: str, limit: int = DRAIN_BATCH) -> list[dict[str, Any]]:
        """Take (and remove) up to ``limit`` waiting replies, oldest first; each goes to one caller."""
        items = await self._redis.lpop(self.key(user_id), limit)  # type: ignore[misc]
        return [json.loads(item) for item in items or ()]
