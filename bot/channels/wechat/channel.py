"""The WeChat official-account channel: verify, decrypt, de-duplicate, answer within 5 seconds.

WeChat waits 5 s for a passive reply, then retries the same message (three tries in all) and finally
shows the shopper an error. So every message is claimed once in Redis (``MsgId``, or
``FromUserName+CreateTime`` for events): the first delivery runs the pipeline; if the answer is ready
within the budget (about 4 s) it is the passive reply (and kept for a retry whose answer WeChat lost);
otherwise we say ``success`` at once and the answer follows as customer-service messages. A retry of a
message still being worked on just gets ``success``, so the shopper is never answered twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from aiohttp import web

from bot.channels.base import ChannelContext, Job
from bot.channels.wechat.api import AccessTokens, WeChatApi
from bot.channels.wechat.budget import Worked, within
from bot.channels.wechat.handoff_photos import keep_handoff_image
from bot.channels.wechat.inbound import Inbound, classify
from bot.channels.wechat.jobs import every, reconcile_payments
from bot.channels.wechat.outbound import WeChatSender, Window
from bot.channels.wechat.pay import WeChatPayProvider
from bot.channels.wechat.pending import PendingMessages
from bot.channels.wechat.render import Choices, passive_reply, render
from bot.channels.wechat.security import (
    Cryptor,
    NonceBook,
    Rejected,
    check_fresh,
    check_signature,
    parse_xml,
    sealed_envelope,
)
from bot.channels.wechat.settings import WeChatSettings
from bot.infra.redis import as_async_store
from bot.infra.roundtrips import RoundTrips
from bot.pipeline import SAVED_STATE
from bot.turns import TurnInProgress
from commerce_core.api import PaymentProvider
from dialogs.messages import Button, InboundMessage, Reply, TextReply
from dialogs.texts import DEFAULT_LANGUAGE

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)
SEEN_TTL = 2 * 86400
SUCCESS = "success"
#: the turn failed: forget the message and answer 503, so WeChat's own retry runs it again
FAILED = ""
LATE_ATTEMPTS = 3
#: WeChat's three tries of one message span about 15 s; seconds between looks for unanswered ones
RETRY_WINDOW = 20.0
RECOVER_EVERY = 5.0
CHANNEL = "wechat"
RECONCILE_EVERY = 60.0
Said = list[Reply] | InboundMessage  # what a message comes to: the channel's replies, or the pipeline's turn


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: str
    content_type: str = "text/plain"
    passive: bool = False  # a real reply (not ``success``) went back within the budget
    #: the delivery to strike off the unanswered list once this answer is written to WeChat
    #: (not before: a process killed in between leaves it listed, and the recovery job answers it)
    delivered: str = ""


@dataclass(frozen=True, slots=True)
class Opened:
    """A turn's first Redis commands are done (the window opened, the message written down as
    unanswered); ``shown`` is what the look-up of the buttons it may press found (None: none made)."""

    looked_up: bool
    shown: Any = None


def _seen_key(inbound: Inbound) -> str:
    """Claims the message (``-``) while it is worked on, then holds its passive reply for a retry."""
    return f"shopbot:wechat:seen:{inbound.dedup_key}"


def create(context: ChannelContext) -> WeChatChannel | None:
    """The channel when an official account is configured (``SHOPBOT_WECHAT_APP_ID`` and ``_TOKEN``)."""
    settings = context.settings.wechat
    return WeChatChannel(context, settings) if settings.enabled else None


class WeChatChannel:
    name = CHANNEL

    def __init__(
        self,
        context: ChannelContext,
        settings: WeChatSettings,
        *,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        if not settings.public_base_url:
            settings = settings.model_copy(update={"public_base_url": context.settings.public_base_url})
        self.context = context
        self.settings = settings
        self.redis = context.redis
        self.texts = context.texts
        self._clock = context.clock
        self.http = http or httpx.AsyncClient(timeout=httpx.Timeout(5.0))
        self.cryptor = Cryptor(settings.token, settings.app_id, settings.aes_keys)
        self.nonces = NonceBook(as_async_store(self.redis), settings.timestamp_window)
        self.tokens = AccessTokens(
            self.http, self.redis, settings.app_id, settings.app_secret, base=settings.api_base, now=self.now
        )
        self.api = WeChatApi(self.http, self.tokens, settings.api_base)
        self.choices = Choices(self.redis)
        self.window = Window(self.redis, settings.window_hours, settings.window_messages, self.now)
        self.sender = WeChatSender(
            self.api, self.redis, self.texts, settings, self.window, self.choices, self.language_of
        )
        self.pay: WeChatPayProvider | None = None
        if settings.pay_enabled:
            secure = None
            if settings.pay_cert_path and http is None:
                secure = httpx.AsyncClient(timeout=httpx.Timeout(10.0), cert=settings.pay_cert_path)
            self.pay = WeChatPayProvider(
                settings, self.http, self.redis, payer=self.payer_of, secure_http=secure, now=self.now
            )
        self.payment_providers: Sequence[PaymentProvider] = (self.pay,) if self.pay is not None else ()
        #: with WeChat Pay configured, WeChat shoppers pay with it
        self.payment_provider = self.pay.name if self.pay is not None else None
        self._background: set[asyncio.Task[None]] = set()
        self._working: set[str] = set()
        #: this channel's Redis work of concurrent requests, one round trip for all (see :mod:`roundtrips`)
        self.group = RoundTrips(self.redis, settle_turns=1, raise_errors=True)
        self.pending = PendingMessages(self.redis, self.group)  # deliveries this process runs a turn for
        self._closed = False

    @property
    def runtime(self) -> Runtime:
        return self.context.runtime

    def install_routes(self, app: web.Application) -> None:
        from bot.channels.wechat.http import install_routes  # (http.py imports this module)

        install_routes(app, self)

    def jobs(self) -> Sequence[Job]:
        return (self.recover_loop, self.reconcile_loop) if self.pay is not None else (self.recover_loop,)

    async def recover_loop(self, stop: asyncio.Event) -> None:
        """Answer messages a dead process took and never answered (see :mod:`pending`)."""
        await every(stop, RECOVER_EVERY, self.recover, "recovering unanswered messages")

    async def recover(self) -> int:
        """Run the overdue unanswered messages now, answering with customer-service messages."""
        overdue = await self.pending.overdue(self.context.settings.turn_lease_seconds + RETRY_WINDOW)
        for dedup_key, xml in overdue:
            if dedup_key in self._working:
                continue
            inbound = classify(xml, parse_xml(xml.encode()))
            log.warning("wechat: %s was never answered; answering it now", dedup_key)
            task = self._start(inbound)
            self._keep(asyncio.create_task(self._deliver_late(inbound, task)))
        return len(overdue)

    def _start(
        self, inbound: Inbound, xml_in: str | None = None, opened: Opened | None = None
    ) -> asyncio.Task[Worked]:
        """Run the message's turn, remembering that this process is on it (and, with ``xml_in``,
        writing the message down as unanswered in the turn's first Redis round trip; with ``opened``
        that round trip was the claim's)."""
        task = asyncio.create_task(self._work(inbound, xml_in, opened))
        self._working.add(inbound.dedup_key)
        task.add_done_callback(lambda _: self._working.discard(inbound.dedup_key))
        return task

    async def reconcile_loop(self, stop: asyncio.Event) -> None:
        """Every minute, ask WeChat Pay about payments whose notification is late."""
        await every(stop, RECONCILE_EVERY, self.reconcile_payments, "payment reconciliation")

    def now(self) -> float:
        return self._clock.now().timestamp()

    async def language_of(self, openid: str) -> str:
        state = await self.runtime.pipeline.state_of(f"wechat:{openid}")
        return state.lang or DEFAULT_LANGUAGE

    async def payer_of(self, order_number: str) -> str | None:
        commerce = self.runtime.container.commerce
        order = await commerce.orders.get(order_number)
        identities = await commerce.customers.identities(order.customer_id)
        return next((user for channel, user in identities if channel == "wechat"), None)

    # -- URL verification --------------------------------------------------------------------------
    def verify_url(self, query: Mapping[str, str]) -> Answer:
        try:
            self._check_request(query)
            echostr = query.get("echostr", "")
            if query.get("msg_signature") and self.cryptor.enabled:
                echostr = self.cryptor.decrypt(
                    echostr, query["msg_signature"], query.get("timestamp", ""), query.get("nonce", "")
                )
        except Rejected as error:
            log.warning("wechat: URL verification refused (%s)", error.reason)
            return Answer(403, "forbidden")
        return Answer(200, echostr)

    def _check_request(self, query: Mapping[str, str], now: float | None = None) -> None:
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        if query.get("signature") or not query.get("msg_signature"):
            check_signature(self.settings.token, query.get("signature", ""), timestamp, nonce)
        check_fresh(timestamp, self.now() if now is None else now, self.settings.timestamp_window)

    # -- messages ----------------------------------------------------------------------------------
    async def receive(self, query: Mapping[str, str], body: bytes) -> Answer:
        """One POST from WeChat. Forged, stale or unreadable requests get 403/400 and change nothing."""
        now = self.now()  # (the freshness check's, and the reply's timestamp)
        try:
            self._check_request(query, now)
            sealed = sealed_envelope(body)  # WeChat's safe-mode envelope, read without a parser
            root = {"Encrypt": sealed} if sealed is not None else parse_xml(body)
            encrypted = "Encrypt" in root
            if encrypted:
                if not self.cryptor.enabled:
                    raise Rejected("no_aes_key")
                xml = self.cryptor.decrypt(
                    str(root["Encrypt"]),
                    query.get("msg_signature", ""),
                    query.get("timestamp", ""),
                    query.get("nonce", ""),
                )
                root = parse_xml(xml)
            elif self.settings.mode == "safe" or (self.cryptor.enabled and not self.settings.allow_plaintext):
                raise Rejected("plaintext_refused")
            elif not query.get("signature"):
                raise Rejected("bad_signature")  # only msg_signature, which covers nothing in plaintext
            else:
                xml = body.decode("utf-8", errors="replace")
            inbound = classify(xml, root)
            runs, earlier, opened = await self._claim(query, body, inbound, xml if encrypted else None)
        except Rejected as error:
            log.warning("wechat: request refused (%s)", error.reason)
            forbidden = any(word in error.reason for word in ("signature", "stale", "replayed"))
            return Answer(403 if forbidden else 400, error.reason)
        body_out = SUCCESS if runs is None else await self._answer(inbound, xml, runs, earlier, opened)
        if body_out == FAILED:
            return Answer(503, "retry")
        if body_out == SUCCESS:
            return Answer(200, SUCCESS)
        if encrypted or self.settings.mode == "safe":
            body_out = self.cryptor.encrypt(body_out, str(int(now)))
        return Answer(200, body_out, "application/xml", passive=True, delivered=inbound.dedup_key)

    async def _claim(
        self, query: Mapping[str, str], body: bytes, inbound: Inbound, sealed: str | None
    ) -> tuple[bool | None, Any, Opened | None]:
        """The nonce check and the message's claim, one Redis round trip: ``(runs, what the claim held
        before, ...)``: ``runs`` when this delivery runs the turn (it took the message, or takes over
        one taken and never answered: :meth:`_runs`), None for what is not answered (events we
        ignore). Raises :class:`Rejected` for a replayed nonce, its claim undone.

        A ``sealed`` message (its decrypted XML) is authentic, so the turn's first commands (written
        down as unanswered, the window opened, the buttons read: :meth:`_open_on`) go in the claim's
        round trip too, shared with other requests' (:mod:`roundtrips`), and the third value says what
        they found. For a delivery that then does not run the turn (a retry of a message answered or
        on its way here) the entry written down is struck off again; its window is opened all the
        same (the shopper did write: it is WeChat's delivery of the same message).

        Why together: they were two round trips of the seven a WeChat turn added to the pipeline's
        (issue 16). Everything that can refuse a request without Redis (signatures, freshness, the
        ciphertext, the XML) has run before, so only a replayed nonce can still refuse it here.
        A ``sealed`` (encrypted) message needs no nonce: its ``msg_signature`` covers the ciphertext,
        so a captured signed URL cannot carry another message, and the same one again is de-duplicated
        by its claim (what :class:`NonceBook` adds only for plaintext, whose signature covers no body).
        """
        seen = _seen_key(inbound)
        answered = inbound.kind != "ignore" and bool(inbound.openid)
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        if sealed is not None:
            if not answered:
                return None, None, None
            look_up = self._looks_up(inbound)

            def queue(batch: Any) -> None:
                batch.set(seen, b"-", nx=True, ex=SEEN_TTL, get=True)
                self._open_on(batch, inbound, sealed, look_up)

            done = await self.group.run(queue)
            earlier, written = done[0], done[1]
            runs = self._runs(inbound, earlier)
            if written and not runs:
                await self.pending.done(inbound.dedup_key)
            return runs, earlier, Opened(look_up, done[-1] if look_up else None)
        if not answered:
            await self.nonces.check(timestamp, nonce, body)
            return None, None, None
        async with self.redis.pipeline(transaction=False) as batch:
            digest = self.nonces.check_on(batch, timestamp, nonce, body)
            batch.set(seen, b"-", nx=True, ex=SEEN_TTL, get=True)
            nonce_before, earlier = await batch.execute()
        if nonce_before is not None and bytes(nonce_before) != digest:
            if earlier is None:  # our claim of a message this request may not carry: undone
                await self.redis.delete(seen)
            raise Rejected("replayed_nonce")
        return self._runs(inbound, earlier), earlier, None

    def _runs(self, inbound: Inbound, earlier: Any) -> bool:
        """Whether this delivery runs the message's turn, given what its claim held before: yes when
        nothing (taken now) and when a claim no answer followed, unless this process is on it.

        WeChat retries only when our answer never reached it: the process that took the message died
        (kill -9, OOM) or lost its connection, so it is run here; the turn's own processing mark
        (bot.turns) keeps a live process and us from both running it, and replays a done turn."""
        if earlier and bytes(earlier) != b"-":
            return False  # answered: the stored reply goes back
        return earlier is None or inbound.dedup_key not in self._working

    async def _answer(
        self, inbound: Inbound, xml_in: str, runs: bool, earlier: Any, opened: Opened | None
    ) -> str:
        seen = _seen_key(inbound)
        if not runs:
            if earlier and bytes(earlier) != b"-":
                return bytes(earlier).decode()  # answered: the reply WeChat lost, again
            return SUCCESS  # this process is on it and answers late if it must
        if earlier is not None:
            log.warning("wechat: %s was taken but never answered; taking it over", inbound.dedup_key)
        # written down (in the turn's first round trip) only by whoever runs the turn: a retry of an
        # answered message must not put it back (the recovery job would answer it a second time)
        task = self._start(inbound, xml_in, opened)
        if not await within(task, self.settings.reply_budget):
            self._keep(asyncio.create_task(self._deliver_late(inbound, task)))
            return SUCCESS
        try:
            worked = task.result()
        except Exception:  # not marked seen: WeChat's retry (it tries 3 times) is processed again
            log.exception("wechat: handling %s failed; waiting for WeChat's retry", inbound.dedup_key)
            await self.redis.delete(seen)
            return FAILED
        if not worked.replies:
            await self.pending.done(inbound.dedup_key)
            return SUCCESS
        lang = worked.lang or await self.language_of(inbound.openid)
        rendered = render(worked.replies, self.texts, lang, self.settings.public_base_url)
        if rendered.empty:
            await self.pending.done(inbound.dedup_key)
            return SUCCESS
        xml = passive_reply(rendered, self.texts, lang, source=inbound.account, target=inbound.openid)

        # one round trip (shared, see :mod:`roundtrips`), in this order: the buttons a reply of "2" presses,
        # then the reply itself for a retry whose answer was lost
        def queue(batch: Any) -> None:
            self.choices.remember_on(batch, inbound.openid, rendered.choices)
            batch.set(seen, xml.encode(), ex=SEEN_TTL)

        await self.group.run(queue)
        return xml

    def _keep(self, task: asyncio.Task[None]) -> None:
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _deliver_late(self, inbound: Inbound, task: asyncio.Task[Worked]) -> None:
        """WeChat got ``success`` and will not retry: a failed late turn is retried here instead."""
        for attempt in range(1, LATE_ATTEMPTS + 1):
            try:
                replies = (await task).replies
                if replies:
                    await self.sender.push(inbound.openid, replies, f"late:{inbound.dedup_key}")
                await self.pending.done(inbound.dedup_key)
                return
            except Exception as error:
                log.exception("wechat: late answer to %s failed (attempt %d)", inbound.dedup_key, attempt)
                if attempt == LATE_ATTEMPTS:
                    await self.redis.delete(_seen_key(inbound))
                    return
                # a dead process's lease on the turn runs out by itself: wait for it, not less
                busy = isinstance(error, TurnInProgress)
                await asyncio.sleep(self.context.settings.turn_lease_seconds if busy else attempt)
                task = asyncio.create_task(self._work(inbound, None, None))

    async def drain(self) -> None:
        """Wait for answers still on their way (tests, shutdown)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)
        await self.pending.flush()  # answered messages struck off

    async def _work(self, inbound: Inbound, xml_in: str | None, opened: Opened | None) -> Worked:
        SAVED_STATE.set(None)  # (this task's own context) set by the pipeline's turn, if one runs
        said = await self._said(inbound, xml_in, opened)
        # awaited here, not a frame deeper: every step of the turn resumes each frame awaiting it
        replies = said if isinstance(said, list) else await self.runtime.pipeline.handle(said)
        saved = SAVED_STATE.get()
        return Worked(replies, (saved.lang or DEFAULT_LANGUAGE) if saved is not None else None)

    def _looks_up(self, inbound: Inbound) -> bool:
        """Whether the message may press a shown button (a number): then the buttons are read first."""
        said = inbound.message
        return bool(
            inbound.kind not in ("location_report", "subscribe", "unsupported")
            and inbound.saying is None
            and said is not None
            and said.text
            and not said.payload
            and self.choices.may_select(said.text, inbound.menu_id)
        )

    def _open_on(self, batch: Any, inbound: Inbound, xml_in: str | None, look_up: bool) -> None:
        """Written down as unanswered (``xml_in``), the window opened (closed: unsubscribe), buttons read."""
        openid = inbound.openid
        if xml_in is not None:
            self.pending.add_on(batch, inbound.dedup_key, xml_in)
        if inbound.kind == "unsubscribe":
            batch.set(self.sender.unsubscribed_key(openid), b"1")
            self.window.close_on(batch, openid)
            return
        self.window.open_on(batch, openid)
        if look_up:
            self.choices.look_up_on(batch, openid)

    async def _said(self, inbound: Inbound, xml_in: str | None, opened: Opened | None) -> Said:
        """The channel's own replies, else the message for the pipeline (:meth:`_work` awaits it)."""
        openid = inbound.openid
        if opened is None:  # not done in the claim's round trip
            look_up = self._looks_up(inbound)
            done = await self.group.run(lambda batch: self._open_on(batch, inbound, xml_in, look_up))
            opened = Opened(look_up, done[-1] if look_up else None)
        if inbound.kind == "unsubscribe":
            return []
        if inbound.kind == "location_report":
            if inbound.latitude is not None and inbound.longitude is not None:
                await self.redis.set(
                    f"shopbot:wechat:location:{openid}",
                    f"{inbound.latitude},{inbound.longitude}".encode(),
                    ex=86400,
                )
            return []
        if inbound.kind == "subscribe":
            await self.redis.delete(self.sender.unsubscribed_key(openid))
            customer = await self.runtime.container.commerce.customers.identify("wechat", openid)
            if inbound.message is not None:
                return inbound.message
            lang = customer.language
            return [
                TextReply(
                    self.texts.get(lang, "wechat.welcome"),
                    (
                        Button(self.texts.get(lang, "wechat.menu.search"), "popular"),
                        Button(self.texts.get(lang, "wechat.menu.orders"), "orders"),
                        Button(self.texts.get(lang, "wechat.menu.human"), "human"),
                    ),
                )
            ]
        if inbound.kind == "unsupported":
            return [TextReply(self.texts.get(await self.language_of(openid), "wechat.unsupported"))]
        message = inbound.message
        if inbound.saying is not None:
            text = self.texts.get(await self.language_of(openid), inbound.saying)
            message = InboundMessage("wechat", openid, openid, text, dedup_key=inbound.dedup_key)
        if message is None:
            return []
        if message.text and not message.payload:
            payload = await self.choices.resolve(
                openid, message.text, inbound.menu_id, shown_raw=opened.shown, read=not opened.looked_up
            )
            if payload is not None:
                message = InboundMessage(
                    "wechat", openid, openid, "", payload, dedup_key=message.dedup_key, language_hint="zh"
                )
        if await keep_handoff_image(self, message):
            return []  # an image during a handoff: kept for the agent (handoff_photos)
        return message

    # -- payments ----------------------------------------------------------------------------------
    async def reconcile_payments(self) -> int:
        """Ask WeChat Pay about payments whose notification is late (see :mod:`reconcile`)."""
        if self.pay is None:
            return 0
        commerce = self.runtime.container.commerce
        return await reconcile_payments(self.pay, commerce, self.settings.pay_query_after_minutes * 60)

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self.drain()
            await self.http.aclose()
