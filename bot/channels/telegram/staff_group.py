"""The Telegram staff group: a supergroup with forum topics where staff who live in Telegram take
handed-off conversations (R5.4-1), like the topic relays teams already use.

* Each handed-off conversation has one forum topic (``createForumTopic``), kept in the database
  (``support_staff_topics``) so any process finds it; it is reused when the shopper comes back and
  recreated when staff deleted or closed it (Telegram answers "message thread not found").
* A new handoff posts a header: masked shopper, language, channel, orders, open case, console link.
* The shopper's messages (and photos) during the handoff are mirrored into the topic; the hand-back
  is posted there too. These come from outbox events (:mod:`bot.notifications.staff_group`), so they
  are retried, never lost, and in the shopper's order.
* A bound staff account's message in the topic goes to the shopper through the core (claim if
  waiting, then reply: audited, through the outbox, on the shopper's channel); ``/close`` resolves
  (the bot is back, the shopper is told). Anyone else is refused with a short reply.
* Alerts for a staff queue (overdue cases, ...) are posted in the group's general topic.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING

from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.methods import CreateForumTopic, SendMessage

from bot.channels.telegram.outbound import ChatBlocked
from bot.channels.telegram.render import NO_PREVIEW, Outgoing, split_text
from commerce_core.api import (
    Commerce,
    DomainError,
    NotFound,
    OperatorRole,
    TicketStatus,
    TicketView,
)
from dialogs.messages import Reply, TextReply

if TYPE_CHECKING:
    from aiogram.types import Message

    from bot.channels.telegram.channel import TelegramChannel

log = logging.getLogger(__name__)
#: Bot API errors meaning the topic is gone (deleted) or shut (closed): make a new one
TOPIC_GONE = ("message thread not found", "topic_deleted", "topic_closed", "thread not found")
STAFF = frozenset({OperatorRole.AGENT, OperatorRole.ADMIN})
CLOSE_COMMAND = "/close"
TOPIC_NAME_LIMIT = 128
#: how long a mirrored line is remembered as posted (an outbox retry does not post it twice)
POSTED_TTL = 14 * 86400


def topic_gone(error: TelegramAPIError) -> bool:
    return isinstance(error, TelegramBadRequest) and any(part in error.message.lower() for part in TOPIC_GONE)


class StaffGroup:
    """The staff group of one bot (``SHOPBOT_TELEGRAM_STAFF_GROUP_ID``), posting through the
    channel's rate-limited outbound path."""

    def __init__(self, channel: TelegramChannel, chat_id: int, language: str) -> None:
        self.channel = channel
        self.chat_id = chat_id
        self.chat = str(chat_id)
        self.language = language
        self.redis = channel.redis

    @property
    def commerce(self) -> Commerce:
        return self.channel.runtime.commerce

    def t(self, key: str, **params: object) -> str:
        return self.channel.texts.get(self.language, f"staffgroup.{key}", **params)

    def owns(self, chat_id: int) -> bool:
        return chat_id == self.chat_id

    def console_link(self, number: str) -> str:
        base = self.channel.context.settings.public_base_url.rstrip("/")
        return f"{base}/admin/agent/c/{number}"

    # -- posting -----------------------------------------------------------------------------------

    async def _send(self, text: str, thread_id: int | None) -> None:
        for part in split_text(text):
            method = SendMessage(
                chat_id=self.chat_id,
                text=part,
                message_thread_id=thread_id,
                link_preview_options=NO_PREVIEW,
            )
            await self.channel.outbound.send(Outgoing(method), self.chat)

    async def post_general(self, text: str) -> None:
        """A line in the group's general topic (alerts for the staff queue)."""
        await self._send(text, None)

    async def post(self, ticket: TicketView, text: str, *, dedup_key: str | None = None) -> None:
        """Post ``text`` in the conversation's topic (made first if there is none, made again if staff
        deleted it). ``dedup_key``: posted once even when the outbox delivers the event again."""
        mark = f"shopbot:tg:staff:posted:{dedup_key}" if dedup_key else None
        if mark and await self.redis.exists(mark):
            return
        thread_id = await self.topic_of(ticket)
        try:
            await self._send(text, thread_id)
        except TelegramAPIError as error:
            if not topic_gone(error):
                raise
            log.info("staff topic %s of %s is gone (%s): a new one", thread_id, ticket.number, error.message)
            thread_id = await self.topic_of(ticket, replace=thread_id)
            await self._send(text, thread_id)
        if mark:
            await self.redis.set(mark, b"1", ex=POSTED_TTL)

    async def announce(self, ticket: TicketView) -> None:
        """The ticket's header in its conversation's topic, once: a new topic brings it; a reused
        topic (the shopper came back) gets a fresh one."""
        await self.topic_of(ticket)
        if not await self.redis.exists(self._header_mark(ticket)):
            await self.post(ticket, await self.header(ticket))
            await self.redis.set(self._header_mark(ticket), b"1", ex=POSTED_TTL)

    def _header_mark(self, ticket: TicketView) -> str:
        return f"shopbot:tg:staff:header:{ticket.number}"

    async def topic_of(self, ticket: TicketView, *, replace: int | None = None) -> int:
        """The conversation's topic id; a new topic (with the header) when it has none or ``replace``
        is the one that is gone. A Redis lock keeps two processes from making two topics."""
        support, key = self.commerce.support, ticket.conversation_key
        lock = self.redis.lock(f"shopbot:tg:staff:topic:{key}", timeout=30, blocking_timeout=30)
        async with lock:
            known = await support.staff_topic(key)
            if known is not None and known.chat_id == self.chat and known.thread_id != replace:
                return known.thread_id
            shopper = await self._shopper_name(ticket)
            title = self.t("topic_title", shopper=shopper, channel=ticket.channel, number=ticket.number)
            topic = await self.channel.bot(
                CreateForumTopic(chat_id=self.chat_id, name=title[:TOPIC_NAME_LIMIT])
            )
            await support.remember_staff_topic(key, self.chat, topic.message_thread_id)
            await self._send(await self.header(ticket), topic.message_thread_id)
            await self.redis.set(self._header_mark(ticket), b"1", ex=POSTED_TTL)
            return topic.message_thread_id

    async def _shopper_name(self, ticket: TicketView) -> str:
        if ticket.customer_id is None:
            return "—"
        try:
            customer = await self.commerce.customers.get(ticket.customer_id)
        except NotFound:
            return "—"
        return customer.masked_name or customer.public_id

    async def header(self, ticket: TicketView) -> str:
        """Who the shopper is (masked), their language and channel, orders, open case, console link."""
        commerce, nobody = self.commerce, self.t("nobody")
        orders = cases = nobody
        if ticket.customer_id is not None:
            found = await commerce.orders.for_customer(ticket.customer_id, limit=5)
            orders = ", ".join(f"{o.number} ({o.status})" for o in found) or nobody
            open_cases = [
                c
                for c in await commerce.after_sales.for_customer(ticket.customer_id)
                if c.status not in ("resolved", "closed", "withdrawn", "rejected")
            ]
            cases = ", ".join(f"{c.number} ({c.kind}, {c.status})" for c in open_cases) or nobody
        return self.t(
            "header",
            number=ticket.number,
            shopper=await self._shopper_name(ticket),
            language=ticket.language or "—",
            channel=ticket.channel,
            reason=ticket.reason,
            orders=orders,
            cases=cases,
            link=self.console_link(ticket.number),
        )

    # -- what staff write in the group -------------------------------------------------------------

    async def on_staff_message(self, message: Message) -> None:
        """A message in the staff group: answers the shopper of its topic if the sender may."""
        sender = message.from_user
        thread_id = message.message_thread_id if message.is_topic_message else None
        if sender is None or sender.is_bot or thread_id is None:
            return  # the general topic is for people; the bot reads only the conversation topics
        key = await self.commerce.support.conversation_of_topic(self.chat, thread_id)
        if key is None:
            return  # a topic staff made themselves
        operators = self.commerce.operators
        operator = await operators.operator_for_identity("telegram", str(sender.id))
        if operator is None:
            await self._answer(thread_id, self.t("unbound"))
            return
        if operator.role not in STAFF:
            await self._answer(thread_id, self.t("not_staff"))
            return
        text = (message.text or "").strip()
        if not text:
            await self._answer(thread_id, self.t("text_only"))
            return
        await self._act(key, thread_id, operator.public_id, operator.display_name or operator.email, text)

    async def _act(self, key: str, thread_id: int, agent: str, agent_name: str, text: str) -> None:
        support = self.commerce.support
        ticket = await support.active_for(key)
        if ticket is None:
            await self._answer(thread_id, self.t("no_conversation"))
            return
        command = text.split(maxsplit=1)[0].split("@", 1)[0].lower()
        try:
            if ticket.status == TicketStatus.ASSIGNED and ticket.assignee != agent:
                await self._answer(thread_id, self.t("not_yours", agent=ticket.assignee))
                return
            if ticket.status == TicketStatus.QUEUED:
                await support.claim(ticket.number, agent)
            if command == CLOSE_COMMAND:
                await support.resolve(ticket.number, actor=agent)
                await self._answer(thread_id, self.t("closed_by", agent=agent_name))
                return
            await self.redis.set(self._own_mark(ticket.number, text), b"1", ex=POSTED_TTL)
            await support.reply(ticket.number, agent, text)
        except DomainError as refused:
            await self._answer(thread_id, self.t("refused", reason=refused.code or str(refused)))

    def _own_mark(self, number: str, text: str) -> str:
        digest = hashlib.sha256(text.encode()).hexdigest()[:24]
        return f"shopbot:tg:staff:own:{number}:{digest}"

    async def echo(self, ticket: TicketView, text: str, *, dedup_key: str) -> None:
        """An agent's reply written in the console, shown in the topic too (one typed in the topic
        is there already)."""
        if await self.redis.delete(self._own_mark(ticket.number, text)):
            return
        if await self.commerce.support.staff_topic(ticket.conversation_key) is None:
            return
        await self.post(ticket, self.t("agent", agent=ticket.assignee or "—", text=text), dedup_key=dedup_key)

    async def _answer(self, thread_id: int, text: str) -> None:
        try:
            await self._send(text, thread_id)
        except (ChatBlocked, TelegramAPIError) as error:
            log.info("could not answer in the staff group: %s", error)


class StaffGroupAlerts:
    """The notifier's sender for the staff group's general topic (a ``StaffQueue`` recipient's
    group address): each notification is posted once."""

    def __init__(self, group: StaffGroup) -> None:
        self.group = group

    async def push(self, user_id: str, replies: list[Reply], dedup_key: str) -> None:
        mark = f"shopbot:tg:staff:alert:{dedup_key}"
        if await self.group.redis.exists(mark):
            return
        lines = [reply.text for reply in replies if isinstance(reply, TextReply)]
        if lines:
            await self.group.post_general(self.group.t("alert", text="\n".join(lines)))
        await self.group.redis.set(mark, b"1", ex=POSTED_TTL)


def staff_group_of(channel: TelegramChannel) -> StaffGroup | None:
    """The channel's staff group when one is configured."""
    settings = channel.settings
    if settings.staff_group_id is None:
        return None
    return StaffGroup(channel, settings.staff_group_id, settings.staff_group_language)
