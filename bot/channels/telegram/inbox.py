"""The durable update inbox: a Redis stream with a consumer group.

``store`` runs before Telegram gets its 200: one Lua script records the update_id (de-duplication,
kept two days) and appends the raw update to the stream, atomically, so a redelivered update is never
stored twice and a stored one is never lost. Workers read through the consumer group and acknowledge
(and delete) an entry only after it was processed successfully (a failed one stays and is retried);
entries of a worker that died are read again by its successor (its own pending entries) or claimed by
another after ``claim_idle`` seconds.

Run Redis with persistence (AOF) in production: the stream is the inbox.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from bot.infra.roundtrips import Rider, RoundTrips, raise_first, script_answer, shared

STORE_SCRIPT = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'c', ARGV[2], 'b', ARGV[3])
end
return false
"""
DEDUP_TTL = 2 * 86400
MAX_BACKLOG = 1_000_000
#: the pause after a blocking read that came back empty long before its time (see ``read``)
EARLY_EMPTY_PAUSE = 0.02


@dataclass(frozen=True, slots=True)
class StoredUpdate:
    entry_id: bytes
    chat: str
    body: bytes


class UpdateInbox:
    group = "workers"

    def __init__(self, redis: aioredis.Redis, bot_id: str, together: RoundTrips | None = None) -> None:
        self.redis = redis
        #: stores and acknowledgements share round trips with the rest of the channel's Redis work
        #: (issue 16); None on a cluster (its pipelines refuse scripts: see RoundTrips)
        self.together = shared(redis, together)
        # one hash tag per bot: the store script's de-dup key and the stream share a Redis Cluster slot
        self.stream = f"shopbot:tg:{{tginbox:{bot_id}}}:updates"
        self.seen_prefix = f"shopbot:tg:{{tginbox:{bot_id}}}:seen:"
        self._store = redis.register_script(STORE_SCRIPT)
        self._group_ready = False

    async def store(self, update_id: int, chat: str, body: bytes) -> bool:
        """Store a raw update once; False when this update_id was stored before (a redelivery).

        Concurrent webhook calls store in one round trip (:class:`RoundTrips`): each is answered only
        once its own script ran, so a 200 still means stored."""
        keys = [f"{self.seen_prefix}{update_id}", self.stream]
        args: list[Any] = [DEDUP_TTL, chat, body, MAX_BACKLOG]
        if self.together is None:
            return await self._store(keys=keys, args=args) is not None
        sha = self._store.sha
        [answer] = await self.together.run(lambda pipe: pipe.evalsha(sha, 2, *keys, *args))
        return await script_answer(answer, lambda: self._store(keys=keys, args=args)) is not None

    async def ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            await self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
        self._group_ready = True

    async def read(
        self,
        consumer: str,
        *,
        count: int = 64,
        block_ms: int | None = None,
        claim_idle_ms: int = 60_000,
        skip: set[bytes] | frozenset[bytes] = frozenset(),
        recheck: bool = True,
    ) -> list[StoredUpdate]:
        """This consumer's unacknowledged entries first, then ones abandoned by others, then new ones.

        ``skip``: entries this consumer is working on right now (they are pending too, but handing them
        out again would process them twice). ``recheck=False`` reads new entries only: the update worker
        looks for left-over and abandoned entries every so often rather than on every read, which
        would cost two more round trips per read (issue 16's profile).
        """
        await self.ensure_group()
        if recheck:
            own = await self.redis.xreadgroup(self.group, consumer, {self.stream: "0"}, count=count)
            entries = [entry for entry in _entries(own) if entry.entry_id not in skip]
            if entries:
                return entries
            claimed = await self.redis.xautoclaim(
                self.stream, self.group, consumer, min_idle_time=claim_idle_ms, start_id="0-0", count=count
            )
            if claimed and claimed[1]:
                taken = [_entry(entry_id, fields) for entry_id, fields in claimed[1] if fields]
                taken = [entry for entry in taken if entry.entry_id not in skip]
                if taken:
                    return taken
        started = time.monotonic()
        fresh = await self.redis.xreadgroup(
            self.group, consumer, {self.stream: ">"}, count=count, block=block_ms
        )
        entries = _entries(fresh)
        if not entries and block_ms and time.monotonic() - started < block_ms / 2000:
            # nothing, long before the block ran out: Redis never answers so, but the embedded store
            # (fakeredis) wakes a blocked read on any write to any key, and the worker then spun on
            # empty reads and starved its own lanes (30 updates of 10 chats took ten seconds)
            await asyncio.sleep(EARLY_EMPTY_PAUSE)
        return entries

    async def ack(self, *entry_ids: bytes, writes: Sequence[Rider] = ()) -> None:
        """Acknowledge and delete processed entries: one round trip for any number of them.

        ``writes``: what their work left to write (sent-part counts, see ``outbound``), queued before
        the acknowledgement in the same round trip. Not a transaction: those keys live in other hash
        slots (each conversation's), and nothing needs it. A count written without the
        acknowledgement only makes a retry skip parts that did go out; an ``XACK`` without its ``XDEL``
        (the connection lost between them) leaves an entry no read hands out again, trimmed with
        the stream's ``MAXLEN``."""
        if not entry_ids and not writes:
            return

        def queue(pipe: Any) -> None:
            for write in writes:
                write(pipe)
            if entry_ids:
                pipe.xack(self.stream, self.group, *entry_ids)
                pipe.xdel(self.stream, *entry_ids)

        if self.together is not None:  # with whatever else the channel sends at that moment
            raise_first(await self.together.run(queue))
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            queue(pipe)
            await pipe.execute()

    async def backlog(self) -> int:
        return int(await self.redis.xlen(self.stream))


def _entries(response: object) -> list[StoredUpdate]:
    result: list[StoredUpdate] = []
    for _stream, items in response or []:  # type: ignore[attr-defined]
        for entry_id, fields in items:
            if fields:
                result.append(_entry(entry_id, fields))
    return result


def _entry(entry_id: bytes, fields: dict[bytes, bytes]) -> StoredUpdate:
    return StoredUpdate(entry_id, fields.get(b"c", b"").decode(), fields.get(b"b", b""))


class BadUpdate(ValueError):
    """The body is not a Telegram Update (not JSON, or no integer update_id)."""


def chat_of(data: dict[str, Any]) -> str:
    """The chat an update belongs to (its ordering key); the sender for chat-less events."""
    for key, event in data.items():
        if key == "update_id" or not isinstance(event, dict):
            continue
        for holder in (event, event.get("message")):
            if isinstance(holder, dict) and isinstance(holder.get("chat"), dict):
                return str(holder["chat"].get("id", ""))
        for who in ("from", "user", "voter_chat"):
            if isinstance(event.get(who), dict):
                return str(event[who].get("id", ""))
        return key
    return ""
