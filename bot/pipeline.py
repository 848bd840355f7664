"""The message pipeline: every channel's inbound message goes through here.

claim the delivery (a processing mark with a lease) -> per-conversation lock -> load state -> person
handling it? relay and stop -> interpret -> run the dialog -> save state, store the reply as the done
mark -> replies. Two messages of one conversation are processed one after the other, in arrival order
(a FIFO lock per conversation in this process, and a Redis lock across processes). A redelivery of a
done turn gets the stored reply again; a failed turn leaves no mark, so the platform's retry runs it
again, and after N failures it becomes a dead letter with an apology (see :mod:`bot.turns`).

Redis is asked twice per turn on the happy path, one command each time: the processing mark, the Redis
lock and the state read go in one script (``TURN_BEGIN``), the state write, the done mark and the lock
release in another (``TURN_END``; a channel may have a list of its own popped in it too, see
:class:`bot.turns.ListPop`). (Each Redis command costs this process ~0.1 ms of CPU to pack and
parse, pipelined or not; a turn's whole budget is a few milliseconds.)
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from collections import OrderedDict
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot

from bot.analytics.recorder import BehaviourRecorder
from bot.infra.flood import FloodGate
from bot.infra.redis import as_async_store
from bot.observability.metrics import NO_OBSERVER, TurnObserver
from bot.turns import (
    FORGET_FAILED,
    SWAP,
    TURN_BEGIN,
    TURN_END,
    ConversationStates,
    DeadLetters,
    ListPop,
    Mark,
    Owner,
    TurnConfig,
    TurnInProgress,
    done_value,
    failures_key,
    mark_key,
    processing_value,
    read_mark,
)
from bot.turns import lock_key as conversation_lock
from commerce_core.api import Commerce, DomainError, PhoneVerifier, TicketStatus, is_connection_lost
from dialogs.context import AttachmentKeeper, DialogSettings, Turn
from dialogs.engine import Engine
from dialogs.errors import describe
from dialogs.messages import Button, InboundMessage, Reply, TextReply
from dialogs.payloads import LeaveMessage
from dialogs.state import ConversationState
from dialogs.texts import DEFAULT_LANGUAGE, Texts, load_texts
from nlu import Interpreter

log = logging.getLogger(__name__)
#: while waiting for a person, these leave the queue; /start and help are answered by the bot throughout
_LEAVE_QUEUE = re.compile(
    r"^(取消|cancel|回到机器人|回到機器人|back to the bot|返回机器人|返回機器人)[.!。！]?$", re.IGNORECASE
)
_ALWAYS_ANSWERED = re.compile(r"^(/start|/help|help|帮助|幫助)\b", re.IGNORECASE)
_RATINGS = frozenset("12345")
#: the state the last turn run by :meth:`Pipeline.handle` in this context saved (None: no turn ran, e.g.
#: a replayed delivery, or the conversation was forgotten). Why: a channel that renders the replies in
#: the shopper's language read the state back from Redis after every turn (issue 16: WeChat, Telegram,
#: web);
#: a caller sets it to None before ``handle`` and reads it after (same task), else falls back to
#: :meth:`Pipeline.state_of`.
SAVED_STATE: ContextVar[ConversationState | None] = ContextVar("saved_state", default=None)
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
    lock_timeout: float = 30.0
    state_ttl: timedelta = timedelta(days=7)
    #: channels whose accounts become customers only when a flow needs one (Turn.ensure_customer):
    #: anyone can open a web chat, so chatter there must not create customer rows
    lazy_identity_channels: frozenset[str] = frozenset({"web"})
    #: turns per minute one Telegram or WeChat user may start (``SHOPBOT_RATE_CHAT_USER_PER_MINUTE``);
    #: 0 = off. The web chat is limited per request at the HTTP edge instead.
    chat_user_per_minute: int = 0
    #: this process's slot (``shopbot serve``: host and port, or ``SHOPBOT_INSTANCE``): after a crash
    #: its next start takes over the unfinished turns at once (see :class:`bot.turns.Owner`)
    instance: str = ""


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
        turns: TurnConfig | None = None,
    ) -> None:
        self.commerce = commerce
        self.interpreter = interpreter
        self.redis = redis
        self.texts = texts or load_texts()
        self.settings = settings or DialogSettings()
        self.verifier = verifier
        self.config = config or PipelineConfig()
        self.turns = turns or TurnConfig()
        self.dead_letters = DeadLetters(redis)
        self.engine = Engine()
        self.states = ConversationStates(as_async_store(redis), ttl=self.config.state_ttl)
        self._locks = ConversationLocks()
        self._flood = FloodGate(redis)
        #: metrics and log context per turn (bootstrap sets it; see bot.observability.metrics)
        self.observer: TurnObserver = NO_OBSERVER
        #: behaviour events (R6.2-1; bootstrap sets it when ``SHOPBOT_ANALYTICS_ENABLED``)
        self.behaviour: BehaviourRecorder | None = None
        #: downloads files users send into the upload store (bootstrap sets it: bot.media)
        self.keep_attachment: AttachmentKeeper | None = None
        self.owner = Owner(self.config.instance)
        #: a script's keys must share one slot there (see :meth:`_may_ride`); asked once, not per turn
        self._cluster = isinstance(redis, RedisCluster)

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

    async def handle(self, message: InboundMessage, *, pop: ListPop | None = None) -> list[Reply]:
        """The turn's replies. ``pop``: a list to pop in the turn's last Redis round trip (see
        :class:`bot.turns.ListPop`); its ``items`` are set only when a turn ended here with it."""
        flood_controlled = self.config.chat_user_per_minute and message.channel in FLOOD_CONTROLLED
        if flood_controlled and (flooded := await self._flood_reply(message)) is not None:
            return flooded
        key = message.conversation_key
        async with self._locks.get(key):
            lock_key, token = conversation_lock(key), f"{self.owner}#{secrets.token_hex(8)}"
            lock_ms = int(self.config.lock_timeout * 1000)
            state_key = self.states.key_of(key)
            mark = mark_key(message) if message.dedup_key else None
            processing = processing_value(str(self.owner))
            # claim the delivery for the lease (learning what was there before), lock, read: one script
            keys = (lock_key, state_key) if mark is None else (lock_key, state_key, mark)
            begun = await self.redis.eval(TURN_BEGIN, len(keys), *keys, token, lock_ms, processing)  # type: ignore[misc]
            earlier_raw, locked, raw = begun[0], bool(begun[1]), begun[2]
            earlier = read_mark(earlier_raw) if mark is not None else Mark("new")
            if earlier.state == "processing" and self.owner.predecessor_of(earlier.raw):
                assert mark is not None
                if await self._take_over(mark, earlier.raw, lock_key, token, lock_ms, locked, processing):
                    return await self._turn(
                        message, await self.redis.get(state_key), lock_key, token, processing, pop
                    )
            if earlier.state != "new" and locked:
                await self.redis.eval(_RELEASE_LOCK, 1, lock_key, token)  # type: ignore[misc]
            if earlier.state == "done":
                log.info("redelivery %s:%s: the stored reply again", message.channel, message.dedup_key)
                return list(earlier.replies)
            if earlier.state == "processing":
                return await self._after_other(message, lock_key, token, lock_ms, pop)
            if not locked:  # another process is on this conversation: wait for it, then re-read
                await self._wait_for_lock(lock_key, token, lock_ms)
                raw = await self.redis.get(state_key)
            return await self._turn(message, raw, lock_key, token, processing, pop)

    async def _turn(
        self,
        message: InboundMessage,
        raw: bytes | None,
        lock_key: str,
        token: str,
        processing: bytes,
        pop: ListPop | None = None,
    ) -> list[Reply]:
        """Run the turn holding the lock; on success save state, store the reply, release: one round trip.

        A turn that hit a broken database connection runs once more from the stored state (the pool has
        discarded that connection; committed work is idempotent, e.g. the order's idempotency key).
        """
        key = message.conversation_key
        mark = mark_key(message) if message.dedup_key else None
        record = self.observer.begin(message)
        try:
            try:
                replies, kept = await self._handle_locked(message, self.states.parse(raw))
            except Exception as error:
                if not is_connection_lost(error):
                    raise
                log.warning("turn %s:%s: broken connection, once more", message.channel, message.dedup_key)
                replies, kept = await self._handle_locked(message, self.states.parse(raw))
        except Exception as error:
            record.failed()
            # an outage (the database or a connection to it gone: a restart) is not this message's
            # failure: the retry must not move it towards the dead letters (fault test: a web page
            # retrying through a PostgreSQL restart got the apology after three quick retries)
            outage = is_connection_lost(error)
            async with self.redis.pipeline(transaction=False) as batch:
                batch.eval(_RELEASE_LOCK, 1, lock_key, token)
                if mark is not None and outage:
                    batch.eval(_RELEASE_LOCK, 1, mark, processing)  # forget our mark, count nothing
                elif mark is not None:
                    batch.eval(FORGET_FAILED, 2, mark, failures_key(message), processing, self._done_seconds)
                _, *failures = await batch.execute()
            if outage:
                raise
            if not failures or int(failures[0]) < self.turns.max_failures:
                raise
            return await self._give_up(message, error, int(failures[0]))
        # keep the state (or forget it: the shopper's data was erased), store the reply as the done mark,
        # release the lock: one script, one command
        state_key = self.states.key_of(key)
        keys = (lock_key, state_key) if mark is None else (lock_key, state_key, mark)
        stored = self.states.dump(kept) if kept is not None else ""
        done = done_value(replies) if mark is not None else b""
        # a channel's list to pop rides last (the script takes it after the lock's release)
        ride = pop if pop is not None and self._may_ride(pop.key, lock_key) else None
        popping = () if ride is None else (ride.key,)
        ended = await self.redis.eval(  # type: ignore[misc]
            TURN_END,
            len(keys) + len(popping),
            *keys,
            *popping,
            token,
            "1" if kept is not None else "0",
            stored,
            self.states.ttl_seconds,
            done,
            self._done_seconds,
            *(() if ride is None else (ride.count,)),
        )
        if ride is not None:
            ride.items = list(ended or ())
        SAVED_STATE.set(kept)
        record.done()
        return replies

    def _may_ride(self, key: str, lock_key: str) -> bool:
        """Whether ``key`` may be named in the turn's script: always on one server; on a Redis Cluster
        only in the conversation's slot (a script's keys must share one)."""
        if not self._cluster:
            return True
        return bool(key_slot(key.encode()) == key_slot(lock_key.encode()))

    async def _take_over(
        self, mark: str, seen: bytes, lock_key: str, token: str, lock_ms: int, locked: bool, processing: bytes
    ) -> bool:
        """Take a turn our dead predecessor left (its mark ``seen``, and the conversation lock unless a
        live process holds it); False when anything changed meanwhile: then the ordinary path waits."""
        if not locked:
            holder = await self.redis.get(lock_key)
            if holder is not None and not self.owner.predecessor_of(holder):
                return False
            if not await self.redis.eval(SWAP, 1, lock_key, holder or b"", token, lock_ms):  # type: ignore[misc]
                return False
        if not await self.redis.eval(SWAP, 1, mark, seen, processing, lock_ms):  # type: ignore[misc]
            if not locked:
                await self.redis.eval(_RELEASE_LOCK, 1, lock_key, token)  # type: ignore[misc]
            return False
        log.warning("%s: taking over a turn our previous start left unfinished", mark)
        return True

    async def _after_other(
        self, message: InboundMessage, lock_key: str, token: str, lock_ms: int, pop: ListPop | None = None
    ) -> list[Reply]:
        """Another process holds this delivery: wait for the conversation, then replay or take it over."""
        await self._wait_for_lock(lock_key, token, lock_ms)
        mark = mark_key(message)
        processing = processing_value(str(self.owner))
        try:
            async with self.redis.pipeline(transaction=False) as batch:
                batch.set(mark, processing, nx=True, px=lock_ms, get=True)
                batch.get(self.states.key_of(message.conversation_key))
                earlier_raw, raw = await batch.execute()
        except Exception:
            await self.redis.eval(_RELEASE_LOCK, 1, lock_key, token)  # type: ignore[misc]
            raise
        earlier = read_mark(earlier_raw)
        if earlier.state != "new":
            await self.redis.eval(_RELEASE_LOCK, 1, lock_key, token)  # type: ignore[misc]
            if earlier.state == "done":
                return list(earlier.replies)
            raise TurnInProgress(mark)
        return await self._turn(message, raw, lock_key, token, processing, pop)

    async def _give_up(self, message: InboundMessage, error: Exception, attempts: int) -> list[Reply]:
        """After N failures: a dead letter for staff, an apology for the shopper (stored as the reply)."""
        log.error("turn %s:%s failed %d times: dead letter", message.channel, message.dedup_key, attempts)
        state = await self.states.load(message.conversation_key)
        hinted = CHANNEL_LANGUAGE_HINTS.get((message.language_hint or "").lower())
        lang = state.lang or hinted or DEFAULT_LANGUAGE
        apology: list[Reply] = [TextReply(self.texts.get(lang, "error.turn_failed"))]
        await self.dead_letters.add(message, f"{type(error).__name__}: {error}", attempts)
        await self.redis.set(mark_key(message), done_value(apology), ex=self._done_seconds)
        return apology

    @property
    def _done_seconds(self) -> int:
        return int(self.turns.done_ttl.total_seconds())

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
        if state.lang is None:
            state.lang = CHANNEL_LANGUAGE_HINTS.get((message.language_hint or "").lower())
        if state.customer_id is None and message.channel not in self.config.lazy_identity_channels:
            await self._identify(message, state)  # first contact (or after erasure): the account is the login
        if state.handoff_ticket:
            relayed = await self._relay_to_staff(message, state)
            if relayed is not None:
                return relayed, state
        ended: list[Reply] = []
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
            identify=self._identify,
            keep_attachment=self.keep_attachment,
        )
        flow_before, misunderstood_before = state.active.flow if state.active else None, state.misunderstood
        try:
            await self.engine.handle(turn)
        except DomainError as error:
            turn.replies.append(TextReply(describe(error, self.texts, turn.lang)))
        self.observer.understood(nlu, flow_before, misunderstood_before, state)
        if self.behaviour is not None:
            self.behaviour.turn(message, state, turn.notes, state.misunderstood > misunderstood_before)
        return ended + turn.replies, None if turn.forget_conversation else state

    async def _identify(self, message: InboundMessage, state: ConversationState) -> int:
        """The customer behind the channel account, created if new; remembered in the state."""
        customer = await self.commerce.customers.identify(
            message.channel,
            message.user_id,
            language=state.lang or DEFAULT_LANGUAGE,
            display_name=message.display_name,
        )
        state.lang = state.lang or customer.language
        state.customer_id = customer.id
        return customer.id

    async def _relay_to_staff(self, message: InboundMessage, state: ConversationState) -> list[Reply] | None:
        """A person has (or is about to have) the conversation: the shopper's message goes to the agent
        console and the bot keeps quiet. Returns the replies, or None when the bot should answer: the
        handoff is over (a "1".."5" right after a resolution is the shopper's rating), the shopper left
        the queue, nobody came in time, or it is /start or help (they always answer)."""
        support, text = self.commerce.support, message.effective_text.strip()
        lang = state.lang or DEFAULT_LANGUAGE
        number = state.handoff_ticket
        assert number is not None
        ticket = await support.active_for(message.conversation_key)
        if ticket is None or ticket.number != number:
            state.handoff_ticket = None
            if text in _RATINGS:
                try:
                    await support.rate(number, int(text))
                except DomainError:
                    return None  # not a resolved handoff (left, timed out): an ordinary message
                return [TextReply(self.texts.get(lang, "handoff.rated", rating=text))]
            return None
        if _ALWAYS_ANSWERED.match(text):
            return None
        if ticket.status == TicketStatus.QUEUED:
            if _LEAVE_QUEUE.match(text):
                await support.cancel(number)
                state.handoff_ticket = None
                return [TextReply(self.texts.get(lang, "handoff.left"))]
            if await support.expire_if_overdue(number) is not None:
                state.handoff_ticket = None
                offer = Button.of(self.texts.get(lang, "button.leave_message"), LeaveMessage())
                return [TextReply(self.texts.get(lang, "handoff.timed_out"), (offer,))]
        await support.shopper_said(number, message.effective_text or f"[{message.payload or '-'}]")
        if ticket.status != TicketStatus.QUEUED:
            return []  # the agent answers from the console
        minutes = support.expected_wait_minutes(ticket.queue_position)
        waiting = self.texts.get(lang, "handoff.waiting", position=ticket.queue_position, minutes=minutes)
        return [TextReply(waiting)]

    async def state_of(self, conversation_key: str) -> ConversationState:
        return await self.states.load(conversation_key)
