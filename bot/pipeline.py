"""The message pipeline: every channel's inbound message goes through here.

de-duplicate -> per-conversation lock -> load state -> person handling it? relay and stop ->
interpret -> run the dialog -> save state -> replies. Two messages of one conversation are processed
one after the other, in arrival order (a FIFO lock per conversation in this process, and a Redis lock
across processes); a duplicate delivery gets no second answer.

Redis is asked twice per turn, not five times: the de-duplication mark, the Redis lock and the state
read go in one pipelined round trip, the state write and the lock release in another. (Each Redis
command costs this process ~0.1 ms of CPU; a turn's whole budget is a few milliseconds.)
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta

import redis.asyncio as aioredis

from bot.infra.flood import FloodGate
from bot.infra.redis import as_async_store
from commerce_core.api import Commerce, DomainError, PhoneVerifier
from dialogs.context import DialogSettings, Turn
from dialogs.engine import Engine
from dialogs.errors import describe
from dialogs.messages import InboundMessage, Reply, TextReply
from dialogs.state import ConversationState, RedisStateStore
from dialogs.texts import DEFAULT_LANGUAGE, Texts, load_texts
from nlu import Interpreter

log = logging.getLogger(__name__)
CHANNEL_LANGUAGE_HINTS = {
    "zh": "zh-Hans",
    "zh-hans": "zh-Hans",
    "zh-cn": "zh-Hans",
    "zh-hant": "zh-Hant",
    "zh-tw": "zh-Hant",
    "zh-hk": "zh-Hant",
    "en": "en",
}


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    dedup_ttl: timedelta = timedelta(days=2)
    lock_timeout: float = 30.0
    state_ttl: timedelta = timedelta(days=7)
    #: turns per minute one Telegram or WeChat user may start (``SHOPBOT_RATE_CHAT_USER_PER_MINUTE``);
    #: 0 = off. The web chat is limited per request at the HTTP edge instead.
    chat_user_per_minute: int = 0


#: channels whose users are flood-controlled here: one polite answer, then silence until the minute ends
FLOOD_CONTROLLED = frozenset({"telegram", "wechat"})


class ConversationLocks:
    """FIFO locks per conversation in this process (asyncio.Lock wakes waiters in order)."""

    def __init__(self, size: int = 10_000) -> None:
        self._locks: OrderedDict[str, asyncio.Lock] = OrderedDict()
        self._size = size

    def get(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
            while len(self._locks) > self._size:
                oldest, candidate = next(iter(self._locks.items()))
                if candidate.locked():
                    break
                del self._locks[oldest]
        else:
            self._locks.move_to_end(key)
        return lock


#: delete the lock only if it is still ours (it may have expired and been taken by another process)
_RELEASE_LOCK = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


class ConversationBusy(RuntimeError):
    """Another process held the conversation's Redis lock for longer than we wait."""


class Pipeline:
    def __init__(
        self,
        commerce: Commerce,
        interpreter: Interpreter,
        redis: aioredis.Redis,
        *,
        texts: Texts | None = None,
        settings: DialogSettings | None = None,
        verifier: PhoneVerifier | None = None,
        config: PipelineConfig | None = None,
    ) -> None:
        self.commerce = commerce
        self.interpreter = interpreter
        self.redis = redis
        self.texts = texts or load_texts()
        self.settings = settings or DialogSettings()
        self.verifier = verifier
        self.config = config or PipelineConfig()
        self.engine = Engine()
        self.states = RedisStateStore(as_async_store(redis), ttl=self.config.state_ttl)
        self._locks = ConversationLocks()
        self._flood = FloodGate(redis)

    async def _flood_reply(self, message: InboundMessage) -> list[Reply] | None:
        """None while the user is within the limit; over it, one polite answer in their language for
        the first message too many, then nothing (answering every one would flood them back)."""
        limit = self.config.chat_user_per_minute
        used = await self._flood.spend(message.channel, message.user_id, time.time())
        if used <= limit:
            return None
        log.warning("flood control: %s user over %d turns a minute", message.channel, limit)
        if used > limit + 1:
            return []
        state = self.states.parse(await self.redis.get(self.states.key_of(message.conversation_key)))
        lang = state.lang or CHANNEL_LANGUAGE_HINTS.get((message.language_hint or "").lower())
        return [TextReply(self.texts.get(lang or DEFAULT_LANGUAGE, "flood.slow_down"))]

    async def handle(self, message: InboundMessage) -> list[Reply]:
        flood_controlled = self.config.chat_user_per_minute and message.channel in FLOOD_CONTROLLED
        if flood_controlled and (flooded := await self._flood_reply(message)) is not None:
            return flooded
        key = message.conversation_key
        async with self._locks.get(key):
            lock_key, token = f"shopbot:lock:{key}", secrets.token_hex(8)
            lock_ms = int(self.config.lock_timeout * 1000)
            state_key = self.states.key_of(key)
            async with self.redis.pipeline(transaction=False) as batch:
                if message.dedup_key:
                    batch.set(self._dedup_key(message), b"1", nx=True, ex=self._dedup_seconds)
                batch.set(lock_key, token, nx=True, px=lock_ms)
                batch.get(state_key)
                *first, locked, raw = await batch.execute()
            if first and not first[0]:
                if locked:
                    # redis-py's one stub for sync and async clients says "awaitable or value"
                    await self.redis.eval(_RELEASE_LOCK, 1, lock_key, token)  # type: ignore[misc]
                log.info("duplicate delivery %s:%s ignored", message.channel, message.dedup_key)
                return []
            if not locked:  # another process is on this conversation: wait for it, then re-read
                await self._wait_for_lock(lock_key, token, lock_ms)
                raw = await self.redis.get(state_key)
            outcome: tuple[list[Reply], ConversationState | None] | None = None
            try:
                outcome = await self._handle_locked(message, self.states.parse(raw))
            finally:  # a failed turn saves nothing, but the lock is always given back
                async with self.redis.pipeline(transaction=False) as batch:
                    if outcome is not None and outcome[1] is not None:
                        await self.states.save(key, outcome[1], client=as_async_store(batch))
                    elif outcome is not None:  # the shopper's data was erased: forget the conversation
                        await self.states.delete(key, client=as_async_store(batch))
                    # EVAL, not a registered script: in a pipeline, redis-py checks registered
                    # scripts with SCRIPT EXISTS first, one more round trip on every turn
                    batch.eval(_RELEASE_LOCK, 1, lock_key, token)
                    await batch.execute()
            return outcome[0]

    def _dedup_key(self, message: InboundMessage) -> str:
        return f"shopbot:dedup:{message.channel}:{message.dedup_key}"

    @property
    def _dedup_seconds(self) -> int:
        return int(self.config.dedup_ttl.total_seconds())

    async def _wait_for_lock(self, lock_key: str, token: str, lock_ms: int) -> None:
        deadline = time.monotonic() + self.config.lock_timeout * 2
        while not await self.redis.set(lock_key, token, nx=True, px=lock_ms):
            if time.monotonic() > deadline:
                raise ConversationBusy(lock_key)
            await asyncio.sleep(0.02)

    async def _handle_locked(
        self, message: InboundMessage, state: ConversationState
    ) -> tuple[list[Reply], ConversationState | None]:
        """The turn itself; returns the replies and the state to keep (None: forget the conversation)."""
        key = message.conversation_key
        if state.lang is None:
            state.lang = CHANNEL_LANGUAGE_HINTS.get((message.language_hint or "").lower())
        if state.customer_id is None:  # first contact (or after erasure): the channel account is the login
            customer = await self.commerce.customers.identify(
                message.channel,
                message.user_id,
                language=state.lang or DEFAULT_LANGUAGE,
                display_name=message.display_name,
            )
            state.lang = state.lang or customer.language
            state.customer_id = customer.id
        if state.handoff_ticket:
            ticket = await self.commerce.support.active_for(key)
            if ticket is not None:
                await self._relay_to_staff(key, message)
                return [], state
            state.handoff_ticket = None
            ended: list[Reply] = [TextReply(self.texts.get(state.lang or DEFAULT_LANGUAGE, "handoff.ended"))]
        else:
            ended = []
        text = message.effective_text
        nlu = await self.interpreter.parse(text, self.engine.hints(state))
        turn = Turn(
            self.commerce,
            self.texts,
            self.settings,
            message,
            nlu,
            state,
            state.customer_id,
            display_name=message.display_name,
            verifier=self.verifier,
        )
        try:
            await self.engine.handle(turn)
        except DomainError as error:
            turn.replies.append(TextReply(describe(error, self.texts, turn.lang)))
        return ended + turn.replies, None if turn.forget_conversation else state

    async def _relay_to_staff(self, key: str, message: InboundMessage) -> None:
        """While a person handles the conversation, the shopper's messages go to the staff inbox."""
        entry = json.dumps(
            {"conversation": key, "text": message.effective_text, "payload": message.payload},
            ensure_ascii=False,
        )
        await self.redis.rpush(f"shopbot:staff:inbox:{key}", entry.encode())  # type: ignore[misc]

    async def state_of(self, conversation_key: str) -> ConversationState:
        return await self.states.load(conversation_key)
