"""What a notification subscriber returns and composes with, and their registry per event type.

A notification subscriber is a function of one typed event: ``(event, writing) -> [Notification]``.
It decides who is told (a :data:`~bot.notifications.recipients.Recipient`) and what, in the
recipient's language, and sends nothing itself: the :class:`~bot.notifications.notifier.Notifier`
finds the recipient's addresses and pushes through the channels' senders.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.notifications.recipients import KnowsMembers, Merchant, Recipient, RecipientDirectory, StaffMember
from commerce_core.api import EVENT_TYPES, DomainEvent, OutboxEnvelope
from dialogs.messages import Reply
from dialogs.texts import Texts

E = TypeVar("E", bound=DomainEvent)
#: a text of the catalogue in the recipient's language: ``phrase("notify.shipped", number=...)``
Phrase = Callable[..., str]


@dataclass(frozen=True, slots=True)
class Notification:
    """Replies for one recipient; ``dedup_key`` makes a retried event show once per address."""

    recipient: Recipient
    replies: list[Reply]
    dedup_key: str


@dataclass(frozen=True, slots=True)
class Writing:
    """What a subscriber composes with: the outbox message it reacts to, the texts, the directory."""

    message: OutboxEnvelope
    texts: Texts
    directory: RecipientDirectory

    @property
    def dedup_key(self) -> str:
        """One notification per recipient and event: the outbox id (as pushes always used)."""
        return f"outbox:{self.message.id}"

    async def to(
        self, recipient: Recipient, write: Callable[[Phrase], list[Reply]], *, dedup_key: str | None = None
    ) -> list[Notification]:
        """A notification for ``recipient`` written in their language; none if they are unknown."""
        lang = await self.directory.language_of(recipient)
        if lang is None:
            return []
        replies = write(functools.partial(self.texts.get, lang))
        return [Notification(recipient, replies, dedup_key or self.dedup_key)] if replies else []

    async def merchant_users(self, merchant_id: int) -> list[Recipient]:
        """Every user of the merchant when the directory knows them (each is told in their own
        language), else the merchant itself as one recipient."""
        merchant = Merchant(merchant_id)
        if isinstance(self.directory, KnowsMembers):
            return await self.directory.members_of(merchant)
        return [merchant]

    async def to_merchant_users(
        self, merchant_id: int, write: Callable[[Phrase, str], list[Reply]]
    ) -> list[Notification]:
        """A notification for each of :meth:`merchant_users` in their language, one per user and event.
        ``write`` gets the language too, for what is kept per language (a product's name)."""
        found: list[Notification] = []
        for member in await self.merchant_users(merchant_id):
            lang = await self.directory.language_of(member)
            if lang is None:
                continue
            replies = write(functools.partial(self.texts.get, lang), lang)
            if replies:
                who = member.user_id if isinstance(member, StaffMember) else f"m{merchant_id}"
                found.append(Notification(member, replies, f"{self.dedup_key}:op{who}"))
        return found


NotificationSubscriber = Callable[[E, Writing], Awaitable[list[Notification]]]


class NotificationSubscribers:
    """Event type -> notification subscribers (a table: registered by the event class itself)."""

    def __init__(self) -> None:
        self._by_name: dict[str, list[NotificationSubscriber[Any]]] = {}

    def subscribe(self, event_type: type[E], subscriber: NotificationSubscriber[E]) -> None:
        if EVENT_TYPES.get(event_type.name) is not event_type:
            raise ValueError(f"{event_type.__name__} is not an outbox event")
        self._by_name.setdefault(event_type.name, []).append(subscriber)

    def of(self, event_type: str) -> list[NotificationSubscriber[Any]]:
        return self._by_name.get(event_type, [])

    def event_types(self) -> list[type[DomainEvent]]:
        return [EVENT_TYPES[name] for name in self._by_name]
