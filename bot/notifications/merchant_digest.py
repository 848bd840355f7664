"""Paid-order notifications to a merchant's chat, paced to the chat's send limit: a burst becomes a digest.

Telegram lets a bot send about one message a second to one chat. A merchant receiving 20 orders in a
second would otherwise have 20 messages queued behind that limit (holding the outbox's delivery slots
and reaching the merchant minutes late). Instead every paid order is first put in the member's pending
list in Redis; a notification *claims* everything pending for the member when the member's window is
open (one message per ``window`` seconds). One claimed order is written as the usual message; several
become one digest (order numbers and totals, "Ship" buttons for the first few).

Nothing is lost or shown twice: a claim is stored under the de-duplication key of the notification
that carries it, so a retried outbox event re-sends exactly the same orders (and the sender's de-dup
keeps it from showing twice where it already arrived); orders left pending because the window was
closed are claimed by the member's next notification or by :meth:`MerchantDigests.flush`, which the
runtime's periodic jobs call. A flush claim that fails to deliver stays in the ``unsent`` set and is
tried again by the next flush.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import redis.asyncio as aioredis

from bot.infra.ratelimit import Timer, WallTimer

#: KEYS: pending list, next-at, claim, pushed marker, waiting set. ARGV: now, window, item, ttl, member.
#: Returns the claimed items (a stored claim when retried), or {} when the window is closed/nothing due.
_CLAIM = """
local claimed = redis.call('lrange', KEYS[3], 0, -1)
if #claimed > 0 then return claimed end
local now = tonumber(ARGV[1])
if ARGV[3] ~= '' and redis.call('set', KEYS[4], '1', 'nx', 'ex', tonumber(ARGV[4])) then
    redis.call('rpush', KEYS[1], ARGV[3])
end
local next_at = tonumber(redis.call('get', KEYS[2]) or '0') or 0
if now < next_at then
    if redis.call('llen', KEYS[1]) > 0 then redis.call('sadd', KEYS[5], ARGV[5]) end
    return {}
end
local items = redis.call('lrange', KEYS[1], 0, -1)
if #items == 0 then return {} end
redis.call('del', KEYS[1])
redis.call('srem', KEYS[5], ARGV[5])
redis.call('rpush', KEYS[3], unpack(items))
redis.call('expire', KEYS[3], tonumber(ARGV[4]))
redis.call('set', KEYS[2], string.format('%.17g', now + tonumber(ARGV[2])), 'ex', 3600)
return items
"""

#: one hash tag for all of it: the claim script touches a member's lists and the shared waiting set
PREFIX = "shopbot:{merchops}:"
CLAIM_TTL = 14 * 86400
#: seconds between two paid-order messages to one merchant user: twice Telegram's one a second per
#: chat, so a claimed message finds the chat's send slot free even behind the bot-wide queue (30/s)
WINDOW = 2.0


@dataclass(frozen=True, slots=True)
class Member:
    """One merchant user to be told: which merchant's orders, which operator account."""

    merchant_id: int
    operator_id: int

    @property
    def key(self) -> str:
        return f"{self.merchant_id}:{self.operator_id}"

    @classmethod
    def parse(cls, key: str) -> Member:
        merchant, operator = key.split(":", 1)
        return cls(int(merchant), int(operator))


class OrderPacer:
    """Claims of pending paid orders per merchant member, at most one claim per ``window`` seconds."""

    def __init__(self, redis: aioredis.Redis, timer: Timer | None = None, window: float = WINDOW) -> None:
        self.redis = redis
        self.timer = timer or WallTimer()
        self.window = window
        self._claim = redis.register_script(_CLAIM)

    async def claim(self, member: Member, dedup_key: str, order_number: str | None) -> list[str]:
        """Add ``order_number`` (once per ``dedup_key``) and take what is due for ``member``."""
        keys = [
            f"{PREFIX}pending:{member.key}",
            f"{PREFIX}next:{member.key}",
            f"{PREFIX}claim:{dedup_key}",
            f"{PREFIX}pushed:{dedup_key}",
            f"{PREFIX}waiting",
        ]
        args: list[str | int] = [
            repr(self.timer.now()),
            repr(self.window),
            order_number or "",
            CLAIM_TTL,
            member.key,
        ]
        items = await self._claim(keys=keys, args=args)
        return [item.decode() if isinstance(item, bytes) else str(item) for item in items]

    async def waiting(self) -> list[Member]:
        """Members with orders pending behind a closed window."""
        keys = await self.redis.smembers(f"{PREFIX}waiting")  # type: ignore[misc]
        return [Member.parse(k.decode() if isinstance(k, bytes) else k) for k in keys]

    async def new_flush_key(self, member: Member) -> str:
        key = f"digest:{member.key}:{uuid.uuid4().hex}"
        await self.redis.sadd(f"{PREFIX}unsent", key)  # type: ignore[misc]
        return key

    async def unsent(self) -> list[str]:
        keys = await self.redis.smembers(f"{PREFIX}unsent")  # type: ignore[misc]
        return sorted(k.decode() if isinstance(k, bytes) else k for k in keys)

    async def sent(self, flush_key: str) -> None:
        await self.redis.srem(f"{PREFIX}unsent", flush_key)  # type: ignore[misc]
