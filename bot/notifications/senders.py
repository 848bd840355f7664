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
#: how long a push's de-duplication mark lives (the outbox retries for about three days)
PUSHED_TTL = 7 * 86400

#: KEYS: the de-dup mark, the inbox list; ARGV: the mark's lifetime, then the encoded replies.
#: Mark and append together: a push the mark says happened has its replies in the list.
_PUSH = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
if #ARGV > 1 then redis.call('RPUSH', KEYS[2], unpack(ARGV, 2)) end
return 1
"""


class InboxSender:
    """Console and web chat: pushed replies wait in a Redis list until the client fetches them.

    A fetch pops (``LPOP key count``, one atomic command): several tabs of one web session polling at
    once each get different replies, and a reply pushed between two commands is never deleted unread
    (reading with LRANGE and then DELETE did both).

    A push is one script call (de-dup mark and RPUSH together: one round trip on the pay button's
    turn instead of two, and no mark without its replies). Both keys carry the hash tag
    ``{<channel>:<user>}`` so they share a Redis Cluster slot."""

    def __init__(self, redis: aioredis.Redis, channel: str) -> None:
        self._redis = redis
        self._channel = channel
        self._push = redis.register_script(_PUSH)

    def key(self, user_id: str) -> str:
        return f"shopbot:inbox:{{{self._channel}:{user_id}}}"

    def pushed_key(self, user_id: str, dedup_key: str) -> str:
        """The mark that this notification was pushed (same slot as :meth:`key`)."""
        return f"shopbot:pushed:{{{self._channel}:{user_id}}}:{dedup_key}"

    async def push(self, user_id: str, replies: list[Reply], dedup_key: str) -> None:
        # one RPUSH: a reader never sees half of one notification's replies
        encoded = [json.dumps(reply_to_json(reply)).encode() for reply in replies]
        await self._push(
            keys=[self.pushed_key(user_id, dedup_key), self.key(user_id)], args=[PUSHED_TTL, *encoded]
        )

    async def drain(self, user_id: str, limit: int = DRAIN_BATCH) -> list[dict[str, Any]]:
        """Take (and remove) up to ``limit`` waiting replies, oldest first; each goes to one caller."""
        items = await self._redis.lpop(self.key(user_id), limit)  # type: ignore[misc]
        return [json.loads(item) for item in items or ()]
