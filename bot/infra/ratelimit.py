"""A send-rate limiter shared by every process through Redis (one Lua script per reservation).

Platforms limit a bot, not a process: Telegram allows about 30 messages a second overall, about one a
second per private chat (short bursts pass) and 20 a minute per group. With several web or relay
processes sending for one bot, a per-process limiter lets each spend the whole budget. Here the
schedule lives in Redis and every reservation is one atomic script (GCRA: each key holds its
"theoretical arrival time"), so all processes together stay within the limits. A chat that must wait
(over its own rate, or paused after a 429) reserves nothing until it is ready, so it never holds up
messages to other chats.

Keys are hash-tagged (``{tg:<bot>}:rate:...``) so a script's keys sit in one Redis Cluster slot. The
caller passes the time: production uses the wall clock (shared across hosts, unlike a monotonic
clock); tests and benchmarks pass a virtual clock and never really sleep. It runs the same on a real
Redis and on the embedded ``memory://`` store (fakeredis executes the Lua).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Protocol

import redis.asyncio as aioredis

from bot.infra.roundtrips import Rider, RoundTrips, raise_first, script_answer, shared


class Timer(Protocol):
    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class WallTimer:
    """Seconds since the epoch: the one clock several hosts agree on (within NTP's error)."""

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class VirtualTimer:
    """Time that passes only when someone waits (replay and benchmarks: no real sleeping)."""

    def __init__(self, start: float = 0.0) -> None:
        self.t = start

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)
        await asyncio.sleep(0)


@dataclass(frozen=True, slots=True)
class Limits:
    global_rate: float = 30.0
    per_chat_rate: float = 1.0
    per_chat_burst: int = 3
    per_group_per_minute: int = 20
    per_group_burst: int = 1


#: KEYS: global schedule, chat schedule, chat pause. ARGV: now, global interval, chat interval,
#: chat burst. Returns {1, wait} with a slot reserved, or {0, wait} when the chat itself is not ready
#: before the next global slot (over its own rate, or paused by a 429): then nothing is reserved, so a
#: chat that must wait never holds up the others, and the caller asks again after ``wait``. Waits are
#: strings: Lua numbers would be truncated to integers.
_RESERVE = """
local now = tonumber(ARGV[1])
local global_interval = tonumber(ARGV[2])
local interval = tonumber(ARGV[3])
local burst = tonumber(ARGV[4])
local global_tat = tonumber(redis.call('get', KEYS[1]) or '0') or 0
local chat_tat = tonumber(redis.call('get', KEYS[2]) or '') or now
local paused = tonumber(redis.call('get', KEYS[3]) or '') or now
local start = math.max(now, global_tat)
local chat_ready = math.max(now, chat_tat - (burst - 1) * interval, paused)
if chat_ready > start then
    return {0, string.format('%.17g', chat_ready - now)}
end
local new_global = start + global_interval
local new_chat = math.max(chat_tat, start) + interval
local keep_global = math.ceil((new_global - now) * 1000) + 1000
local keep_chat = math.ceil((new_chat - now) * 1000) + 1000
redis.call('set', KEYS[1], string.format('%.17g', new_global), 'px', keep_global)
redis.call('set', KEYS[2], string.format('%.17g', new_chat), 'px', keep_chat)
return {1, string.format('%.17g', start - now)}
"""

#: KEYS: chat pause. ARGV: until, milliseconds to keep it. Never shortens a longer pause.
_PAUSE = """
local pause_end = tonumber(ARGV[1])
local current = tonumber(redis.call('get', KEYS[1]) or '') or 0
if pause_end > current then
    redis.call('set', KEYS[1], string.format("%.17g", pause_end), 'px', tonumber(ARGV[2]))
end
return 0
"""


class SharedRateLimiter:
    """Reservations in a schedule shared through Redis, so concurrent senders in any number of
    processes never exceed the limits together. ``scope`` names the budget (one per bot)."""

    def __init__(
        self,
        redis: aioredis.Redis,
        timer: Timer,
        limits: Limits | None = None,
        *,
        scope: str = "tg",
        together: RoundTrips | None = None,
    ) -> None:
        self.timer = timer
        self.limits = limits or Limits()
        self._prefix = "{" + scope + "}:rate:"
        # a hair over 1/rate, so float rounding never lets one more call into a one-second window
        self._global_interval = 1.0 / self.limits.global_rate + 1e-9
        self._reserve = redis.register_script(_RESERVE)
        self._pause = redis.register_script(_PAUSE)
        self._redis = redis
        #: reservations (and their riders) of concurrent senders in one round trip (see RoundTrips);
        #: None on a cluster, whose pipelines refuse scripts: there the riders go first, in a round trip
        self._together = shared(redis, together)

    def _chat_params(self, group: bool) -> tuple[float, int]:
        if group:
            return 60.0 / self.limits.per_group_per_minute + 1e-9, self.limits.per_group_burst
        return 1.0 / self.limits.per_chat_rate + 1e-9, self.limits.per_chat_burst

    async def reserve(self, chat: str, *, group: bool = False, riders: list[Rider] | None = None) -> float:
        """Claim the next slot for one message to ``chat``; returns how long to wait for it (when the
        chat itself must wait first, this waits on the timer and asks again).

        ``riders``: writes queued by the caller (the sent-part count of the message before, a chat
        flag) that go to Redis in this reservation's round trip, before it; the list is emptied. Why:
        each was a round trip of its own per message sent (issue 16's profile)."""
        interval, burst = self._chat_params(group)
        keys = [self._prefix + "global", self._prefix + "chat:" + chat, self._prefix + "pause:" + chat]
        limits: list[str | int] = [repr(self._global_interval), repr(interval), burst]
        while True:
            if self._together is not None:
                answer = await self._reserve_together(riders or [], keys, limits)
            else:
                await self.write(riders or [])
                answer = await self._reserve(keys=keys, args=[repr(self.timer.now()), *limits])
            reserved, wait = answer
            if reserved:
                return float(wait)
            await self.timer.sleep(float(wait))

    async def _reserve_together(self, riders: list[Rider], keys: list[str], limits: list[Any]) -> Any:
        """The riders' writes and one reservation in one pipelined round trip, shared with whatever
        other chats reserve (or the channel writes) at the same moment (not a transaction:
        independent writes). The time is read when the round trip leaves, so a reservation waiting
        for the one before is not scheduled in the past. The script goes by its digest (a pipeline
        given the script object would ask Redis whether it knows it first: a round trip more); a
        Redis without it (restarted, flushed) gets it loaded by the plain call."""
        sha, now = self._reserve.sha, self.timer.now

        def queue(pipe: Any) -> None:
            for ride in riders:
                ride(pipe)
            pipe.evalsha(sha, len(keys), *keys, repr(now()), *limits)

        *written, answer = await self._together.run(queue)  # type: ignore[union-attr]
        raise_first(written)
        riders.clear()
        return await script_answer(answer, lambda: self._reserve(keys=keys, args=[repr(now()), *limits]))

    async def write(self, riders: list[Rider]) -> None:
        """The riders' writes on their own (nothing more to reserve for); the list is emptied once they
        are written (kept when Redis refused them)."""
        if not riders:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for ride in riders:
                ride(pipe)
            await pipe.execute()
        riders.clear()  # only once written: a caller may try them again after a failure

    async def pause(self, chat: str, seconds: float) -> None:
        """The platform said 429: nothing more to this chat (from any process) for ``seconds``."""
        until = self.timer.now() + seconds
        keep_ms = int(seconds * 1000) + 1000
        await self._pause(keys=[self._prefix + "pause:" + chat], args=[repr(until), keep_ms])

    async def paused_until(self, chat: str) -> float | None:
        value = await self._redis.get(self._prefix + "pause:" + chat)
        return float(value) if value is not None else None
