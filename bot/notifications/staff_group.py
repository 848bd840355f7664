"""The staff group's share of the outbox: a new handoff opens (or reuses) its topic with a header, the
shopper's messages during the handoff are mirrored there, the hand-back is posted, and notifications
for a staff queue (overdue cases, ...) reach the group's general topic.

Why outbox subscribers: the events are committed with the handoff's rows, retried until the post
succeeded and delivered in the shopper's order (their ordering key), whichever process ran the turn.
A failed post raises, so the relay tries again; each post is marked once done, so a retry of the
event posts nothing twice.
"""

from __future__ import annotations

from typing import Protocol

from bot.notifications.compose import Notification, Writing
from bot.notifications.notifier import Notifier
from bot.notifications.recipients import Address, KnowsMembers, Recipient, RecipientDirectory, StaffQueue
from bot.notifications.senders import Sender
from commerce_core.api import (
    AgentReplied,
    Commerce,
    HandoffEnded,
    HandoffRequested,
    NotFound,
    ShopperWroteToStaff,
    TicketKind,
    TicketView,
)

#: the pseudo-channel of the staff group's general topic in the notifier's senders
STAFF_GROUP_CHANNEL = "telegram-staff-group"
#: the staff queue that stands for the group itself (a member of every staff queue)
GROUP_QUEUE = StaffQueue("@staff-group")


class StaffRoom(Protocol):
    """A place where staff discuss handed-off conversations (the Telegram staff group)."""

    language: str

    def t(self, key: str, **params: object) -> str: ...
    def console_link(self, number: str) -> str: ...
    async def post(self, ticket: TicketView, text: str, *, dedup_key: str | None = None) -> None: ...
    async def announce(self, ticket: TicketView) -> None:
        """The ticket's header in the conversation's topic, once (the topic made or reused)."""

    async def echo(self, ticket: TicketView, text: str, *, dedup_key: str) -> None:
        """An agent's reply from the console, shown in the conversation's topic."""


class StaffRoomDirectory:
    """The directory in front of the operators': a staff queue also reaches the staff group (its
    general topic), in the group's language."""

    def __init__(self, inner: RecipientDirectory, chat: str, language: str) -> None:
        self._inner = inner
        self._chat = chat
        self._language = language

    async def language_of(self, recipient: Recipient) -> str | None:
        if recipient == GROUP_QUEUE:
            return self._language
        found = await self._inner.language_of(recipient)
        if found is None and isinstance(recipient, StaffQueue):
            return self._language  # nobody of the queue bound a chat: the group is still told
        return found

    async def addresses_of(self, recipient: Recipient) -> list[Address]:
        group = [Address(STAFF_GROUP_CHANNEL, self._chat)]
        if recipient == GROUP_QUEUE:
            return group
        found = await self._inner.addresses_of(recipient)
        return found + group if isinstance(recipient, StaffQueue) else found

    async def members_of(self, recipient: Recipient) -> list[Recipient]:
        inner = self._inner
        found = await inner.members_of(recipient) if isinstance(inner, KnowsMembers) else [recipient]
        if isinstance(recipient, StaffQueue) and recipient != GROUP_QUEUE:
            return [*found, GROUP_QUEUE]
        return found


class StaffRoomRelay:
    """Outbox events -> lines in the conversation's topic (returns no notification of its own)."""

    def __init__(self, commerce: Commerce, room: StaffRoom) -> None:
        self.commerce = commerce
        self.room = room

    async def _ticket(self, number: str) -> TicketView | None:
        try:
            return await self.commerce.support.ticket(number)
        except NotFound:
            return None

    async def opened(self, event: HandoffRequested, writing: Writing) -> list[Notification]:
        ticket = await self._ticket(event.ticket_number)
        if ticket is not None and ticket.kind == TicketKind.HANDOFF:
            await self.room.announce(ticket)
        return []

    async def shopper_wrote(self, event: ShopperWroteToStaff, writing: Writing) -> list[Notification]:
        ticket = await self._ticket(event.ticket_number)
        if ticket is not None:
            room = self.room
            if event.file_key:
                text = room.t("photo", link=room.console_link(ticket.number))
            else:
                text = room.t("shopper", text=event.text)
            await room.post(ticket, text, dedup_key=writing.dedup_key)
        return []

    async def replied(self, event: AgentReplied, writing: Writing) -> list[Notification]:
        ticket = await self._ticket(event.ticket_number)
        if ticket is not None:
            await self.room.echo(ticket, event.text, dedup_key=writing.dedup_key)
        return []

    async def ended(self, event: HandoffEnded, writing: Writing) -> list[Notification]:
        ticket = await self._ticket(event.ticket_number)
        if ticket is not None and await self.commerce.support.staff_topic(ticket.conversation_key):
            text = self.room.t("resolved", number=ticket.number, outcome=event.outcome)
            await self.room.post(ticket, text, dedup_key=writing.dedup_key)
        return []


def connect_staff_room(
    notifier: Notifier, room: StaffRoom | None, chat: str, alerts: Sender | None
) -> Notifier:
    """Wire the staff group into ``notifier`` (bootstrap calls this when one is configured)."""
    if room is None:
        return notifier
    relay = StaffRoomRelay(notifier.commerce, room)
    notifier.subscribe(HandoffRequested, relay.opened)
    notifier.subscribe(ShopperWroteToStaff, relay.shopper_wrote)
    notifier.subscribe(HandoffEnded, relay.ended)
    notifier.subscribe(AgentReplied, relay.replied)
    notifier.directory = StaffRoomDirectory(notifier.directory, chat, room.language)
    if alerts is not None:
        notifier.senders[STAFF_GROUP_CHANNEL] = alerts
    return notifier
