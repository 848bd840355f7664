"""Turn marks and the dead-letter list: a turn counts as done only when it is done.

Why: a de-duplication mark set *before* a turn and kept when the turn failed made every platform retry
look like a duplicate, so the message was lost (issue 11, finding 3). Now each delivery has one mark:

- ``p:<token>`` while a process works on it, with a lease (it expires by itself when that process dies,
  so a retry after a crash is processed again);
- ``d:<replies as JSON>`` once the turn succeeded: a retry of a done turn gets the same replies again
  (a web page that lost the answer, Telegram redelivering, WeChat retrying), not silence and not a
  second run of the turn;
- no mark after a failure, and a failure counter: the platform's retry runs the turn again, and after
  ``max_failures`` failures the message goes to the dead-letter list (staff see and retry it) and the
  shopper gets an apology instead of an endless retry loop.

Keys are hash-tagged per conversation (``{conv:<key>}:...``) so that a turn's keys live in one Redis
Cluster slot; the dead-letter list is one small hash of its own.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Literal, Protocol

import redis.asyncio as aioredis
from pydantic import Field, TypeAdapter

from dialogs.messages import InboundMessage, Reply
from dialogs.state import RedisStateStore

REPLIES: TypeAdapter[list[Reply]] = TypeAdapter(list[Annotated[Reply, Field(discriminator="kind")]])
MESSAGE: TypeAdapter[InboundMessage] = TypeAdapter(InboundMessage)
PROCESSING = b"p:"
DONE = b"d:"
DEAD_LETTERS = "shopbot:turns:dead"

#: replace a value only if it is still the one we saw (taking over a dead predecessor's mark or lock)
SWAP = """
local current = redis.call('get', KEYS[1])
if current == ARGV[1] or (ARGV[1] == '' and not current) then
    redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3])
    return 1
end
return 0
"""

#: a turn's start in one command (each pipelined command cost this process ~0.1 ms of CPU to pack and
#: parse; a script is one): claim the delivery (KEYS[3], when the message has a de-duplication key:
#: SET NX GET, learning what was there), take the conversation lock, read the state.
#: KEYS: lock, state[, mark]; ARGV: lock token, lease ms, processing mark. Returns {earlier mark or nil,
#: 1 if locked else 0, state or nil}. All keys carry the conversation's hash tag (one cluster slot).
TURN_BEGIN = """
local earlier = false
if #KEYS > 2 then
    earlier = redis.call('set', KEYS[3], ARGV[3], 'NX', 'PX', ARGV[2], 'GET')
end
local locked = redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
return {earlier, locked and 1 or 0, redis.call('get', KEYS[2])}
"""

#: a successful turn's end in one command: keep (ARGV[2] == '1': ARGV[3] for ARGV[4] s) or forget the
#: state, store the replies as the done mark (KEYS[3], ARGV[5] for ARGV[6] s), release the lock if it is
#: still ours (token ARGV[1]). KEYS: lock, state[, mark][, list]. With ARGV[7], the last key is a list
#: the caller wants popped (see :class:`ListPop`): up to ARGV[7] items are taken and returned (nil when
#: it is empty); without it, returns 1.
TURN_END = """
local marked = #KEYS > 2
if ARGV[7] then marked = #KEYS > 3 end
if ARGV[2] == '1' then
    redis.call('set', KEYS[2], ARGV[3], 'EX', ARGV[4])
else
    redis.call('del', KEYS[2])
end
if marked then
    redis.call('set', KEYS[3], ARGV[5], 'EX', ARGV[6])
end
if redis.call('get', KEYS[1]) == ARGV[1] then
    redis.call('del', KEYS[1])
end
if ARGV[7] then
    return redis.call('lpop', KEYS[#KEYS], ARGV[7])
end
return 1
"""

#: forget the processing mark only if it is still ours, and count the failure; returns the count
FORGET_FAILED = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    redis.call('del', KEYS[1])
end
local failures = redis.call('incr', KEYS[2])
redis.call('expire', KEYS[2], ARGV[2])
return failures
"""


@dataclass(frozen=True, slots=True)
class TurnConfig:
    """How long a done reply is kept (the platforms' retry window and more) and when to give up."""

    done_ttl: timedelta = timedelta(days=2)
    max_failures: int = 3


def conversation_tag(conversation_key: str) -> str:
    """The Redis Cluster hash tag of one conversation: all its per-turn keys share a slot."""
    return "{conv:" + conversation_key + "}"


def lock_key(conversation_key: str) -> str:
    """The conversation's cross-process lock: pipelined and scripted with its state and turn marks."""
    return f"shopbot:lock:{conversation_tag(conversation_key)}"


class ConversationStates(RedisStateStore):
    """The dialogs' state store with the conversation's hash tag in the key
    (``shopbot:state:{conv:<conversation>}``), so a turn's state, lock and marks share a slot."""

    def key_of(self, conversation: str) -> str:
        return "shopbot:state:" + conversation_tag(conversation)


def mark_key(message: InboundMessage) -> str:
    return f"{conversation_tag(message.conversation_key)}:turn:{message.channel}:{message.dedup_key}"


def failures_key(message: InboundMessage) -> str:
    return f"{conversation_tag(message.conversation_key)}:fails:{message.channel}:{message.dedup_key}"


def processing_value(owner: str = "") -> bytes:
    """``p:<owner>#<random>``: the owner (``<instance>/<boot>``, see :class:`Owner`) says who took it."""
    return PROCESSING + f"{owner}#{secrets.token_hex(8)}".encode()


@dataclass(frozen=True, slots=True)
class Owner:
    """Who holds a processing mark or a conversation lock: ``<instance>/<boot>``.

    Why: a turn's lease outlives a process killed mid-turn (kill -9, OOM), so the retry of that message
    waits until the lease runs out (``SHOPBOT_TURN_LEASE_SECONDS``). Usually nobody can tell a dead
    holder from a slow one, so waiting is right. One case is safe to cut short: ``instance`` names a
    process slot that only one process runs at a time (``shopbot serve`` uses host and port, or
    ``SHOPBOT_INSTANCE``), and ``boot`` is new each start. A process that finds a mark or lock of its
    own instance but another boot knows the holder was its predecessor, which is dead, and takes over
    at once. With no instance (tests, CLI tools) nothing is ever taken over early.
    """

    instance: str = ""
    boot: str = field(default_factory=lambda: secrets.token_hex(4))

    def __str__(self) -> str:
        return f"{self.instance}/{self.boot}" if self.instance else f"-/{self.boot}"

    def predecessor_of(self, holder: bytes | str | None) -> bool:
        """Whether ``holder`` (a mark value or lock token) belongs to a dead earlier start of this slot."""
        if not self.instance or holder is None:
            return False
        value = holder.decode() if isinstance(holder, bytes) else holder
        value = value.removeprefix(PROCESSING.decode())
        who = value.split("#", 1)[0]
        instance, _, boot = who.rpartition("/")
        return instance == self.instance and bool(boot) and boot != self.boot


def done_value(replies: list[Reply]) -> bytes:
    return DONE + REPLIES.dump_json(replies)


@dataclass(frozen=True, slots=True)
class Mark:
    """What Redis knew about a delivery when the turn began."""

    state: Literal["new", "processing", "done"]
    replies: tuple[Reply, ...] = ()
    raw: bytes = b""  # the processing mark as it was (to take it over only if it is still the same)


def read_mark(raw: bytes | None) -> Mark:
    if raw is None:
        return Mark("new")
    raw = bytes(raw)
    if raw.startswith(DONE):
        return Mark("done", tuple(REPLIES.validate_json(raw[len(DONE) :])))
    if raw.startswith(PROCESSING):
        return Mark("processing", raw=raw)
    return Mark("done")  # an old-style "seen" mark: answered before this version, nothing to replay


@dataclass(slots=True)
class ListPop:
    """A Redis list a channel wants popped (``LPOP key count``) in the turn's last round trip.

    Why: the web chat answers a turn with what was pushed to the shopper meanwhile (its inbox); read
    on its own that was a third Redis command per turn (~0.1 ms of this process's CPU, issue 16). The
    pop rides in the turn's end script, after the state, the done mark and the lock release, so the
    turn's guarantees are unchanged. ``items`` stays None when no turn ended here (a replayed delivery,
    a failed turn, or a Redis Cluster where the list is not in the conversation's slot): then the
    caller pops the list itself, as before."""

    key: str
    count: int
    items: list[bytes] | None = None


class TurnInProgress(RuntimeError):
    """Another process is working on this very delivery (its lease is alive): retry later."""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message whose turn failed ``attempts`` times; staff can look at it and run it again."""

    id: str
    message: InboundMessage
    error: str
    attempts: int
    failed_at: float


Deliver = Callable[[InboundMessage, list[Reply]], Awaitable[None]]
HandleTurn = Callable[[InboundMessage], Awaitable[list[Reply]]]


class DeadLetters:
    """The dead-letter list (a Redis hash id -> JSON): kept until staff retry or drop an entry."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def add(self, message: InboundMessage, error: str, attempts: int) -> str:
        letter_id = f"{int(time.time() * 1000):013d}-{secrets.token_hex(4)}"
        entry = {
            "message": json.loads(MESSAGE.dump_json(message)),
            "error": error[:500],
            "attempts": attempts,
            "failed_at": time.time(),
        }
        await self.redis.hset(DEAD_LETTERS, letter_id, json.dumps(entry, ensure_ascii=False))  # type: ignore[misc]
        return letter_id

    async def entries(self, limit: int = 200) -> list[DeadLetter]:
        """Oldest first (the ids start with the time of failure)."""
        raw: dict[bytes, bytes] = await self.redis.hgetall(DEAD_LETTERS)  # type: ignore[misc]
        letters = [_letter(key.decode(), value) for key, value in raw.items()]
        return sorted(letters, key=lambda letter: letter.id)[:limit]

    async def get(self, letter_id: str) -> DeadLetter | None:
        value = await self.redis.hget(DEAD_LETTERS, letter_id)  # type: ignore[misc]
        return None if value is None else _letter(letter_id, value)

    async def retry(self, letter_id: str, handle: HandleTurn, deliver: Deliver) -> list[Reply] | None:
        """Run the message's turn again as a fresh delivery and push its replies to the shopper.

        None when the letter is gone (another staff member retried it first). The letter is removed only
        after the turn succeeded; a failing retry leaves it in the list (with the error raised).
        """
        letter = await self.get(letter_id)
        if letter is None:
            return None
        again = _renamed(letter.message, f"retry:{letter_id}")
        replies = await handle(again)
        await deliver(again, replies)
        await self.redis.hdel(DEAD_LETTERS, letter_id)  # type: ignore[misc]
        return replies


def _renamed(message: InboundMessage, dedup_key: str) -> InboundMessage:
    """The same message under a new delivery id: the old one's mark holds the apology."""
    return InboundMessage(
        message.channel,
        message.user_id,
        message.chat_id,
        message.text,
        message.payload,
        message.attachments,
        dedup_key,
        message.display_name,
        message.language_hint,
    )


def _letter(letter_id: str, value: bytes | str) -> DeadLetter:
    entry = json.loads(value)
    return DeadLetter(
        letter_id,
        MESSAGE.validate_python(entry["message"]),
        str(entry.get("error", "")),
        int(entry.get("attempts", 0)),
        float(entry.get("failed_at", 0.0)),
    )


class Pusher(Protocol):
    """Anything that pushes replies to one user of a channel (a channel's sender, a web inbox)."""

    async def push(self, user_id: str, replies: list[Reply], dedup_key: str) -> None: ...


class TurnRecovery:
    """What the back office needs to show and retry dead letters: the list, the pipeline, the senders.

    ``senders`` looks up how to reach a channel's user (Telegram/WeChat sender, web/console inbox);
    a retried turn's replies go out that way, as a notification would.
    """

    def __init__(self, handle: HandleTurn, redis: aioredis.Redis, senders: Callable[[str], Pusher]) -> None:
        self.letters = DeadLetters(redis)
        self._handle = handle
        self._senders = senders

    async def entries(self, limit: int = 200) -> list[DeadLetter]:
        return await self.letters.entries(limit)

    async def retry(self, letter_id: str) -> list[Reply] | None:
        return await self.letters.retry(letter_id, self._handle, self._deliver)

    async def _deliver(self, message: InboundMessage, replies: list[Reply]) -> None:
        if replies:
            await self._senders(message.channel).push(message.user_id, replies, message.dedup_key or "")
