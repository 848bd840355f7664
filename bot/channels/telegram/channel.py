"""The Telegram channel: ingest (webhook or polling) -> durable inbox -> workers -> aiogram dispatcher ->
pipeline -> rendered replies through the rate-limited outbound path.

Built by bootstrap (:func:`create`) from the ``telegram`` settings section; it brings the Telegram
Payments provider, a sender for pushed notifications, the webhook route (webhook mode) and its
background job (the update worker, or long polling), and handles traffic with the runtime bootstrap
binds to its context.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message, PreCheckoutQuery, Update
from aiogram.types.update import UpdateTypeLookupError
from aiohttp import web
from pydantic import ValidationError

from bot.channels.base import ChannelContext, Job
from bot.channels.telegram.acks import LEFT_FOR_ACK, AckBatcher
from bot.channels.telegram.botapi import BotApiSession
from bot.channels.telegram.handlers import build_router, dispatch_directly, raw_text_fallback
from bot.channels.telegram.http import SECRET_HEADER, install_webhook
from bot.channels.telegram.inbox import BadUpdate, StoredUpdate, UpdateInbox, chat_of
from bot.channels.telegram.lanes import ChatLanes
from bot.channels.telegram.lean import PlainTap, Sender, command_text, handle_plain, tap
from bot.channels.telegram.outbound import (
    ChatBlocked,
    Outbound,
    StoredLanguage,
    TelegramSender,
    turn_reply_parts,
)
from bot.channels.telegram.payments import PROVIDER, TelegramPayments, TelegramPaymentsProvider
from bot.channels.telegram.polling import run_polling
from bot.channels.telegram.render import RenderContext, Renderer, e, keyboard_flag
from bot.channels.telegram.settings import TelegramSettings
from bot.channels.telegram.staff_group import staff_group_of
from bot.channels.telegram.staff_group_photos import keep_handoff_photo
from bot.infra.ratelimit import Limits, SharedRateLimiter, Timer, WallTimer
from bot.infra.roundtrips import Rider, shared
from bot.pipeline import SAVED_STATE
from bot.settings import ConfigurationError
from commerce_core.api import PaymentProvider, PaymentRejected
from dialogs.messages import Attachment, InboundMessage
from dialogs.public import awaits_delivery_address
from dialogs.texts import DEFAULT_LANGUAGE

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)
CHANNEL = "telegram"
#: how often the update worker looks for left-over and abandoned inbox entries (see run_worker)
RECHECK_SECONDS = 1.0
#: under load (lanes busy), a pause after a short read: a read per update or two was a Redis round
#: trip each (issue 16); an idle worker reads at once, so a lone shopper waits no longer
READ_PAUSE = 0.003
LANGUAGE_HINTS = {"zh-hant": "zh-Hant", "zh-tw": "zh-Hant", "zh-hk": "zh-Hant", "zh": "zh-Hans", "en": "en"}


def create(context: ChannelContext) -> TelegramChannel | None:
    """The channel when a bot token is configured (and the mode is not ``off``)."""
    settings = context.settings.telegram
    return TelegramChannel(context, settings) if settings.enabled else None


class TelegramChannel:
    name = CHANNEL

    def __init__(
        self,
        context: ChannelContext,
        settings: TelegramSettings,
        *,
        session: BaseSession | None = None,
        timer: Timer | None = None,
    ) -> None:
        if not settings.bot_token:
            raise ValueError("the Telegram channel needs SHOPBOT_TELEGRAM_BOT_TOKEN")
        if settings.mode == "webhook" and not settings.webhook_secret:
            raise ConfigurationError(
                "Telegram webhook mode needs SHOPBOT_TELEGRAM_WEBHOOK_SECRET (Telegram sends it back in "
                f"{SECRET_HEADER}); refusing to accept unauthenticated updates"
            )
        self.context = context
        self.settings = settings
        # one connection pool for every Bot API call of this process (see botapi)
        self.bot = Bot(settings.bot_token, session=session or BotApiSession(settings.api_base))
        self.bot_id = settings.bot_token.split(":", 1)[0]
        self.dispatcher = Dispatcher(disable_fsm=True, channel=self)
        self.dispatcher.include_router(build_router())
        redis = context.redis
        self.redis = redis
        # the channel's own Redis commands of concurrent chats share round trips (see RoundTrips)
        together = shared(redis)
        self.inbox = UpdateInbox(redis, self.bot_id, together)
        limits = Limits(
            global_rate=settings.global_rate,
            per_chat_rate=settings.per_chat_rate,
            per_chat_burst=settings.per_chat_burst,
            per_group_per_minute=settings.per_group_per_minute,
        )
        # one budget for the bot, shared by every process that sends for it (wall clock by default)
        self.limiter = SharedRateLimiter(
            redis, timer or WallTimer(), limits, scope=f"tg:{self.bot_id}", together=together
        )
        self.outbound = Outbound(self.bot, redis, self.limiter, max_attempts=settings.max_attempts)
        self.texts = context.texts
        self.renderer = Renderer(
            self.texts,
            redis,
            public_base_url=context.settings.public_base_url,
            payment_provider_token=settings.payment_provider_token,
        )
        self.sender = TelegramSender(
            self.outbound,
            self.renderer,
            self.language_of,
            StoredLanguage(  # as language_of reads it, in the notification's one round trip
                lambda chat: self.runtime.pipeline.states.key_of(f"{CHANNEL}:{chat}"),
                lambda raw: self.runtime.pipeline.states.parse(raw).lang or DEFAULT_LANGUAGE,
            ),
        )
        self.payment_providers: Sequence[PaymentProvider] = (TelegramPaymentsProvider(),)
        #: Telegram shoppers pay inside Telegram when a provider token is set (or it is forced)
        self.payment_provider = PROVIDER if settings.telegram_payments else None
        self._payments: TelegramPayments | None = None
        self.staff_group = staff_group_of(self)  # handed-off conversations as forum topics
        #: tests inject a crash here (between storing and processing an update)
        self.before_process: Callable[[StoredUpdate], Awaitable[None]] | None = None
        self._acks: AckBatcher | None = None
        self._closed = False

    @property
    def runtime(self) -> Runtime:
        return self.context.runtime

    @property
    def payments(self) -> TelegramPayments:
        """Pre-checkout checks and capture (needs the runtime's commerce, so made on first use)."""
        if self._payments is None:
            self._payments = TelegramPayments(self.runtime.commerce, self.texts)
        return self._payments

    def install_routes(self, app: web.Application) -> None:
        """``POST <webhook_path>`` in webhook mode; polling needs no route."""
        if self.settings.webhook_mode:
            install_webhook(app, self)

    def jobs(self) -> Sequence[Job]:
        if self.settings.webhook_mode:
            return (self.run_worker,)
        if self.settings.polling_mode:
            return (self.run_polling,)
        return ()

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self.bot.session.close()

    # -- ingest -----------------------------------------------------------------------------------
    async def ingest(self, body: bytes) -> bool:
        """Store one raw update durably (de-duplicated by update_id); False for a redelivery."""
        try:
            data = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BadUpdate("not JSON") from exc
        if not isinstance(data, dict) or type(data.get("update_id")) is not int:
            raise BadUpdate("not an Update: no integer update_id")
        return await self.inbox.store(data["update_id"], chat_of(data), body)

    # -- workers ----------------------------------------------------------------------------------
    async def run_worker(self, stop: asyncio.Event) -> None:
        """Read the inbox into per-chat lanes (see :mod:`lanes`): a slow chat never holds up another.

        Reads take new entries only; left-over and abandoned ones are looked for every
        ``RECHECK_SECONDS`` (at most the claim time) and after a lane stopped on an error.
        Acknowledgements go out in batches (:mod:`acks`)."""
        claim_ms = int(self.settings.claim_idle_seconds * 1000)
        lanes = ChatLanes(self._work_on, parallel=self.settings.workers)
        acks, finished = AckBatcher(self.inbox), asyncio.Event()
        self._acks = acks
        acking = asyncio.create_task(acks.run(finished))
        room = self.settings.batch * 4
        every = min(RECHECK_SECONDS, self.settings.claim_idle_seconds) or RECHECK_SECONDS
        loop = asyncio.get_running_loop()
        checked_at, errors = float("-inf"), 0
        try:
            while not stop.is_set():
                try:
                    if lanes.busy >= room:  # enough read ahead: let the lanes catch up
                        await asyncio.sleep(0.05)
                        continue
                    recheck = loop.time() - checked_at >= every or len(lanes.errors) != errors
                    if recheck:
                        checked_at, errors = loop.time(), len(lanes.errors)
                    entries = await self.inbox.read(
                        self.settings.consumer,
                        count=self.settings.batch,
                        block_ms=int(every * 1000),
                        claim_idle_ms=claim_ms,
                        skip=lanes.in_flight | acks.unsent,
                        recheck=recheck,
                    )
                    for entry in entries:
                        lanes.add(entry)
                    if entries and len(entries) < self.settings.batch and lanes.busy > len(entries):
                        # lanes at work already: let a few more arrive, so a read takes several
                        await asyncio.sleep(READ_PAUSE)
                except asyncio.CancelledError:
                    raise
                except Exception:  # Redis down or similar: the entries stay pending and are read again
                    log.exception("telegram update worker: retrying in 1 s")
                    checked_at = float("-inf")
                    await asyncio.sleep(1.0)
        finally:
            await lanes.close()
            finished.set()
            await acking
            self._acks = None

    async def drain(self) -> int:
        """Process everything stored now (tests, replay); returns how many updates were processed."""
        done = 0
        claim_ms = int(self.settings.claim_idle_seconds * 1000)
        while entries := await self.inbox.read(
            self.settings.consumer, count=self.settings.batch, claim_idle_ms=claim_ms
        ):
            await self.process_batch(entries)
            done += len(entries)
        return done

    async def process_batch(self, entries: list[StoredUpdate]) -> None:
        """Chats in parallel (bounded), each chat's updates strictly in arrival order, each until done."""
        lanes = ChatLanes(self._work_on, parallel=self.settings.workers)
        for entry in entries:
            lanes.add(entry)
        await lanes.join()

    async def _work_on(self, item: StoredUpdate) -> bool:
        """Process one stored update; acknowledge it only when that succeeded (else it is retried)."""
        if self.before_process is not None:
            await self.before_process(item)
        left: list[Rider] = []  # sent-part counts written with the acknowledgement (acks)
        token = LEFT_FOR_ACK.set(left)
        try:
            done = await self.process(item.body)
        finally:
            LEFT_FOR_ACK.reset(token)
        if not done:
            if left:  # parts that went out before the failure: their retry must skip them
                await self.outbound.record(left)
            return False
        if self._acks is not None:  # the update worker: acknowledged with others (acks)
            self._acks.add(item.entry_id, left)
        else:  # drain: the counts through a short Redis outage first (Outbound.record), then the ack
            await self.outbound.record(left)
            await self.inbox.ack(item.entry_id)
        return True

    async def process(self, body: bytes) -> bool:
        """Feed one stored update to the dispatcher; False when it failed and must be tried again.

        An update that cannot be understood is done (True): retrying it would fail the same way.
        """
        try:
            data = json.loads(body)
            if await handle_plain(self, data):  # a private text or a tap: no aiogram models (lean)
                return True
            try:
                update = Update.model_validate(data, context={"bot": self.bot})
            except ValidationError as error:
                log.info(
                    "telegram update %s not understood by aiogram: %s",
                    data.get("update_id"),
                    error.error_count(),
                )
                await raw_text_fallback(self, data)
                return True
            try:
                update.event_type  # noqa: B018 - raises for update kinds newer than aiogram
            except UpdateTypeLookupError:
                return True
            if not await dispatch_directly(self, update):
                await self.dispatcher.feed_update(self.bot, update)
        except (json.JSONDecodeError, UnicodeDecodeError):
            log.warning("telegram inbox entry is not JSON: dropped")
            return True
        except Exception:
            log.exception("telegram update failed; it stays in the inbox and is tried again")
            return False
        return True

    # -- polling ----------------------------------------------------------------------------------
    async def run_polling(self, stop: asyncio.Event | None = None) -> None:
        """Long polling into the same inbox and workers as the webhook (see :mod:`polling`)."""
        await run_polling(self, stop)

    # -- events (called by the handlers) -----------------------------------------------------------
    async def language_of(self, chat: str, hint: str | None = None) -> str:
        state = await self.runtime.pipeline.state_of(f"{CHANNEL}:{chat}")
        return state.lang or LANGUAGE_HINTS.get((hint or "").lower()) or DEFAULT_LANGUAGE

    def inbound(self, message: Message, update_id: int, **fields: Any) -> InboundMessage:
        sender = message.from_user
        return InboundMessage(
            CHANNEL,
            str(sender.id if sender else message.chat.id),
            str(message.chat.id),
            dedup_key=str(update_id),
            display_name=(sender.full_name[:64] if sender else None),
            language_hint=sender.language_code if sender else None,
            **fields,
        )

    async def on_user_message(self, message: Message, update_id: int) -> None:
        if self.staff_group is not None and self.staff_group.owns(message.chat.id):
            return await self.staff_group.on_staff_message(message)
        if message.photo and await keep_handoff_photo(self, message):
            return  # a photo during a handoff: kept for the agent (staff_group_photos)
        text = message.text or message.caption or ""
        if message.chat.type != "private" and not text.startswith("/"):
            return  # in groups the bot answers commands only
        text = command_text(text)
        attachments: list[Attachment] = []
        if message.photo:
            attachments.append(Attachment("image", url=f"tg-file:{message.photo[-1].file_id}"))
        if message.voice:
            attachments.append(Attachment("voice", url=f"tg-file:{message.voice.file_id}"))
        if message.location:
            venue = message.venue
            label = (
                f"{venue.title} {venue.address}"
                if venue
                else f"GPS {message.location.latitude:.5f},{message.location.longitude:.5f}"
            )
            attachments.append(
                Attachment(
                    "location",
                    latitude=message.location.latitude,
                    longitude=message.location.longitude,
                    label=label[:200],
                )
            )
        if message.document:  # a scan sent as a file: an applicant's licence can be downloaded
            name = (message.document.file_name or "")[:100] or None
            attachments.append(Attachment("file", url=f"tg-file:{message.document.file_id}", name=name))
        elif message.sticker or message.video or message.audio or message.animation:
            attachments.append(Attachment("file"))
        inbound = self.inbound(message, update_id, text=text[:4096], attachments=tuple(attachments))
        await self.turn(inbound, chat_id=message.chat.id)

    async def on_contact(self, message: Message, update_id: int) -> None:
        contact = message.contact
        assert contact is not None
        sender = message.from_user
        if sender is None or contact.user_id != sender.id:
            # only the shopper's own number (shared with the keyboard button) is bound to the account
            lang = await self.language_of(str(message.chat.id), sender.language_code if sender else None)
            await self._say(message.chat.id, self.texts.get(lang, "telegram.not_your_contact"))
            return
        name = " ".join(p for p in (contact.first_name, contact.last_name) if p)
        attachment = Attachment("contact", phone=contact.phone_number, name=name[:64] or None)
        await self.turn(self.inbound(message, update_id, attachments=(attachment,)), chat_id=message.chat.id)

    async def on_callback(self, query: CallbackQuery, update_id: int) -> None:
        user, message = query.from_user, query.message
        sender = Sender(user.id, user.full_name, user.language_code)
        chat_id, message_id = (message.chat.id, message.message_id) if message else (None, None)
        await tap(self, PlainTap(update_id, query.id, query.data, chat_id, message_id, sender))

    async def on_pre_checkout(self, query: PreCheckoutQuery) -> None:
        lang = await self.language_of(str(query.from_user.id), query.from_user.language_code)
        try:
            reason = await asyncio.wait_for(
                self.payments.check(query.invoice_payload, query.currency, query.total_amount, lang),
                timeout=self.settings.pre_checkout_deadline,
            )
        except TimeoutError:
            reason = self.texts.get(lang, "telegram.precheckout.busy")
        except Exception:
            log.exception("pre-checkout check failed")
            reason = self.texts.get(lang, "telegram.precheckout.busy")
        try:
            await self.bot.answer_pre_checkout_query(query.id, ok=reason is None, error_message=reason)
        except TelegramAPIError as error:
            log.warning("answerPreCheckoutQuery failed: %s", error)

    async def on_successful_payment(self, message: Message, update_id: int) -> None:
        paid = message.successful_payment
        assert paid is not None
        try:
            result = await self.payments.capture(
                invoice_payload=paid.invoice_payload,
                telegram_charge_id=paid.telegram_payment_charge_id,
                provider_charge_id=paid.provider_payment_charge_id,
                total_amount=paid.total_amount,
                currency=paid.currency,
            )
            log.info("telegram payment %s: %s", paid.telegram_payment_charge_id, result.outcome)
        except PaymentRejected as error:
            # money was taken but does not match a payable order: alert and tell the shopper
            log.error(
                "ALERT telegram payment %s rejected (%s) for payload %r",
                paid.telegram_payment_charge_id,
                error.code,
                paid.invoice_payload,
            )
            lang = await self.language_of(str(message.chat.id))
            await self._say(message.chat.id, self.texts.get(lang, "telegram.payment_problem"))

    async def on_my_chat_member(self, event: ChatMemberUpdated) -> None:
        status = event.new_chat_member.status
        chat = str(event.chat.id)
        if status in ("kicked", "left"):
            await self.outbound.mark_blocked(chat)
        elif status in ("member", "administrator"):
            await self.outbound.unblock(chat)

    # -- replies ----------------------------------------------------------------------------------
    async def turn(
        self,
        message: InboundMessage,
        *,
        chat_id: int,
        edit_message_id: int | None = None,
        edit_kinds: frozenset[str] = frozenset(),
    ) -> None:
        chat = str(chat_id)
        blocked_key = self.outbound.blocked_key(chat)
        SAVED_STATE.set(None)
        replies = await self.runtime.pipeline.handle(message)
        if not replies:
            await self.redis.delete(blocked_key)  # the bot is not blocked: the shopper wrote
            return
        parts = turn_reply_parts(self.redis, message)
        # the state the turn saved (no second read from Redis). A turn that ran here sent nothing yet
        # (replies go out only after its done mark is stored; a retry finds the mark and replays);
        # when none ran (a redelivery replayed the stored replies) some may have gone out: counted
        state = SAVED_STATE.get()
        if state is None:
            state = await self.runtime.pipeline.state_of(message.conversation_key)
            if parts is not None:
                await parts.load()
        ask = awaits_delivery_address(state)  # offer the "share my phone number" keyboard button
        # the bot is not blocked (the shopper wrote), and the keyboard flag: written with the first
        # reply's reservation (Outbound.send_all writes them even when no part goes out)
        riders: list[Rider] = [lambda pipe: pipe.delete(blocked_key)]
        ctx = RenderContext(
            chat_id,
            lang=state.lang or DEFAULT_LANGUAGE,
            edit_message_id=edit_message_id,
            edit_kinds=edit_kinds,
            ask_contact=ask,
        )
        try:
            items = await self.renderer.render(replies, ctx)
            await keyboard_flag(self._exists, chat, ask, items, riders)
        except Exception:
            await self.outbound.record(riders)
            raise
        try:
            await self.outbound.send_all(
                items, chat, sent=parts, check_blocked=False, riders=riders, leave=LEFT_FOR_ACK.get()
            )
        except ChatBlocked:
            pass
        except TelegramAPIError:
            log.exception("telegram replies to chat %s not delivered", chat)

    async def _exists(self, key: str) -> bool:
        """EXISTS in a round trip shared with other chats' (RoundTrips; a plain call on a cluster)."""
        if (together := self.inbox.together) is None:
            return bool(await self.redis.exists(key))
        return bool((await together.run(lambda pipe: pipe.exists(key)))[0])

    async def _say(self, chat_id: int, text: str) -> None:
        ctx = RenderContext(chat_id)
        items = self.renderer._messages(ctx, [e(text)], None)
        try:
            await self.outbound.send_all(items, str(chat_id))
        except (ChatBlocked, TelegramAPIError):
            log.info("could not tell chat %s", chat_id)
