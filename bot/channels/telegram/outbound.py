"""Outbound messages: one path for turn replies and pushed notifications.

* :class:`~bot.infra.ratelimit.SharedRateLimiter` spaces calls (GCRA, in Redis, one budget for all
  processes): about 1 message/s per private chat (short bursts allowed), 20/min per group, 30/s
  overall; a 429 pauses that chat for ``retry_after``.
* :class:`Outbound` sends through the limiter, honours 429, retries transient errors (5xx, network)
  with exponential backoff, and on 403 (the user blocked the bot) marks the chat blocked and stops.
* :class:`TelegramSender` is the Notifier's sender: a notification's parts are counted sent in Redis
  (:class:`SentParts`, one key per notification and chat) only after Telegram accepted each, and a
  failure raises so the outbox retries later, skipping the parts already sent.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, NamedTuple

import redis.asyncio as aioredis
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.channels.telegram.botapi import BotApiSession
from bot.channels.telegram.render import AnyCall, Outgoing, RenderContext, Renderer, api_name, built
from bot.infra.ratelimit import SharedRateLimiter
from bot.infra.roundtrips import Rider
from bot.turns import conversation_tag
from dialogs.messages import InboundMessage, Reply

log = logging.getLogger(__name__)
BLOCKED_TTL = 180 * 86400


class ChatBlocked(Exception):
    """The user blocked the bot (or left the group): nothing more is sent to that chat."""


class Outbound:
    def __init__(
        self,
        bot: Bot,
        redis: aioredis.Redis,
        limiter: SharedRateLimiter,
        *,
        max_attempts: int = 5,
        max_retry_after: float = 300.0,
    ) -> None:
        self.bot = bot
        self.redis = redis
        self.limiter = limiter
        self.timer = limiter.timer
        self.max_attempts = max_attempts
        self.max_retry_after = max_retry_after
        session = bot.session
        #: the call when the answer is not read: no aiogram models built for it (botapi)
        self._call: Callable[[AnyCall], Awaitable[Any]] = (
            partial(session.send_quietly, bot) if isinstance(session, BotApiSession) else self._as_method
        )

    async def _as_method(self, call: AnyCall) -> Any:
        """A session other than ours (tests' recording one) gets aiogram's method object."""
        return await self.bot(built(call))

    async def call(self, method: AnyCall) -> None:
        """One Bot API call outside the send limits (answering a button tap), its answer not read."""
        await self._call(method)

    def blocked_key(self, chat: str) -> str:
        return f"shopbot:tg:blocked:{chat}"

    async def is_blocked(self, chat: str) -> bool:
        return bool(await self.redis.exists(self.blocked_key(chat)))

    async def mark_blocked(self, chat: str) -> None:
        log.info("telegram chat %s blocked the bot; messages to it stop", chat)
        await self.redis.set(self.blocked_key(chat), b"1", ex=BLOCKED_TTL)

    async def unblock(self, chat: str) -> None:
        await self.redis.delete(self.blocked_key(chat))

    async def send(self, item: Outgoing, chat: str, riders: list[Rider] | None = None) -> None:
        """Send one call through the limiter; raises ChatBlocked, or the last error after retries.
        ``riders``: Redis writes to make in the reservation's round trip (see the limiter)."""
        group = chat.startswith("-")
        attempts = 0
        waited_429 = 0.0
        method = item.call
        while True:
            delay = await self.limiter.reserve(chat, group=group, riders=riders)
            if delay > 0:
                await self.timer.sleep(delay)
            try:
                await self._call(method)
                return
            except TelegramRetryAfter as error:
                waited_429 += error.retry_after
                if waited_429 > self.max_retry_after:
                    raise
                log.warning("telegram 429 for chat %s: pausing %ss", chat, error.retry_after)
                await self.limiter.pause(chat, error.retry_after)
            except TelegramForbiddenError as error:
                await self.mark_blocked(chat)
                raise ChatBlocked(chat) from error
            except TelegramBadRequest as error:
                if "message is not modified" in error.message:
                    return
                if item.fallback is not None and method is not item.fallback:
                    log.info(
                        "telegram refused %s (%s); sending the fallback", api_name(method), error.message
                    )
                    method = item.fallback
                    continue
                raise
            except (TelegramServerError, TelegramNetworkError, TimeoutError) as error:
                attempts += 1
                if attempts >= self.max_attempts:
                    raise
                backoff = min(30.0, 0.5 * 2**attempts) * (0.75 + random.random() / 2)
                log.warning(
                    "telegram %s failed (%s); retry %s in %.1fs",
                    api_name(method),
                    error,
                    attempts,
                    backoff,
                )
                await self.timer.sleep(backoff)

    async def send_all(
        self,
        items: list[Outgoing],
        chat: str,
        *,
        sent: SentParts | None = None,
        check_blocked: bool = True,
        riders: list[Rider] | None = None,
        leave: list[Rider] | None = None,
    ) -> None:
        """Send in order; ``sent`` skips and counts the parts already sent (retried updates, pushes).
        ``check_blocked=False``: the caller knows the chat is not blocked (the shopper just wrote).

        ``riders`` (the caller's Redis writes) and each part's sent count go to Redis with the next
        part's reservation, so a part costs one round trip besides its Bot API call; what is left
        (the last part's count) is written before this returns. A part's count is written before the
        next part goes out, so a retry resends at most the one part whose count was in flight.

        ``leave``: the caller writes what is left itself, in a round trip it makes anyway (the update
        worker: with the update's acknowledgement, see :mod:`acks`); only sent-part counts are left
        to it, a caller's rider not yet written (no part went out) is written here."""
        pending: list[Rider] = list(riders or ())
        callers = list(pending)
        try:
            if check_blocked and await self.is_blocked(chat):
                raise ChatBlocked(chat)
            for index, item in enumerate(items):
                if sent is not None and index < sent.already:
                    continue
                await self.send(item, chat, pending)
                if sent is not None:
                    pending.append(partial(sent.mark_on, index=index))
        finally:
            if pending:
                if leave is not None and not any(ride in callers for ride in pending):
                    leave.extend(pending)
                else:
                    await self.record(pending)

    async def record(self, pending: list[Rider]) -> None:
        """Write what is left (sent-part counts), retrying through a short Redis outage.

        Why: Telegram already accepted these parts; if their count is not written, the update's retry
        sends them again (the Redis-restart fault test saw a duplicate when Redis went away between a
        part's send and its count). Waiting a few seconds for Redis costs nothing: without Redis no
        turn runs anyway. After ``RECORD_RETRY_SECONDS`` the error is raised as before."""
        deadline = time.monotonic() + RECORD_RETRY_SECONDS
        while True:
            try:
                await self.limiter.write(pending)
                return
            except (RedisConnectionError, RedisTimeoutError, OSError):
                if time.monotonic() >= deadline:
                    raise
                await asyncio.sleep(RECORD_RETRY_PAUSE)


class StoredLanguage(NamedTuple):
    """Where a chat's language is stored (its conversation state's key) and how to read it from the
    stored value: the notification reads it in the round trip it makes anyway."""

    key_of: Callable[[str], str]
    read: Callable[[Any], str]


class TelegramSender:
    """Pushes outbox notifications to Telegram users (the chat of a private conversation is the user)."""

    def __init__(
        self,
        outbound: Outbound,
        renderer: Renderer,
        language_of: Callable[[str], Awaitable[str]],
        stored_language: StoredLanguage | None = None,
    ) -> None:
        self.outbound = outbound
        self.renderer = renderer
        self.language_of = language_of
        self.stored_language = stored_language
        self.redis = outbound.redis

    async def push(self, user_id: str, replies: list[Reply], dedup_key: str) -> None:
        chat = str(user_id)
        # one counter per notification and chat, as turn replies have (see SentParts); it, the blocked
        # mark and the language are read in one round trip (they were three per notification: issue 16)
        sent = SentParts(self.redis, f"shopbot:tg:sent:{dedup_key}:{chat}", PUSH_MARK_SECONDS)
        stored = self.stored_language
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.exists(self.outbound.blocked_key(chat))
            pipe.get(sent.key)
            if stored is not None:
                pipe.get(stored.key_of(chat))
            blocked, already, *state = await pipe.execute()
        if blocked:
            log.info("notification %s to blocked chat %s not sent", dedup_key, chat)
            return
        lang = stored.read(state[0]) if stored is not None else await self.language_of(chat)
        ctx = RenderContext(chat_id=int(chat) if chat.lstrip("-").isdigit() else chat, lang=lang)
        sent.already = int(already or 0)
        items = await self.renderer.render(replies, ctx)
        try:
            await self.outbound.send_all(items, chat, sent=sent, check_blocked=False)
        except ChatBlocked:
            log.info("notification %s to blocked chat %s not sent", dedup_key, chat)


#: how long sent-part counts are retried through a Redis outage, and the pause between tries
RECORD_RETRY_SECONDS = 10.0
RECORD_RETRY_PAUSE = 0.2
#: how long the count of an update's sent replies is kept: as long as its done mark (bot.turns)
SENT_MARK_SECONDS = 2 * 86400
#: how long a notification's count is kept: longer than the outbox retries it
PUSH_MARK_SECONDS = 14 * 86400


class SentParts:
    """How many parts of one message sequence (a turn's replies, a notification) already went out.

    Why: a process killed after Telegram accepted a part but before the work was recorded as done (the
    update acknowledged, the outbox message settled) leaves it to be done again; the retry would send
    every part again (the kill -9 fault test saw a duplicate). Counting sent parts, in one Redis key,
    narrows that window to the instant between Telegram's answer and one Redis write: a part is sent
    at most once more, never skipped. Parts go out in order, so a count says which ones.
    """

    def __init__(self, redis: Any, key: str, ttl: int) -> None:
        self.redis = redis
        self.key = key
        self.ttl = ttl
        self.already = 0

    async def load(self) -> None:
        self.already = int(await self.redis.get(self.key) or 0)

    def mark_on(self, pipe: Any, index: int) -> None:
        """Count parts up to ``index`` sent, as one command queued on ``pipe`` (see Outbound.send_all)."""
        pipe.set(self.key, index + 1, ex=self.ttl)


def turn_reply_parts(redis: Any, message: InboundMessage) -> SentParts | None:
    """The sent-part count of a turn's replies (not yet loaded); None for a message without a
    de-duplication key. The key shares the conversation's hash tag, like its turn marks."""
    if not message.dedup_key:
        return None
    key = f"shopbot:tg:sent:{conversation_tag(message.conversation_key)}:{message.dedup_key}"
    return SentParts(redis, key, SENT_MARK_SECONDS)
