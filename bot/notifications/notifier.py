"""The notifier: outbox events -> notification subscribers -> pushes to each recipient's addresses.

The outbox relay calls :meth:`Notifier.handle` for every event at least once (in order per shopper,
see ``commerce_core.outbox``). Every push carries its notification's de-duplication key, so an event
retried after a partial failure is not shown twice where it already arrived.
"""

from __future__ import annotations

import logging
from typing import Any, TypeVar

from bot.notifications.compose import (
    Notification,
    NotificationSubscriber,
    NotificationSubscribers,
    Writing,
)
from bot.notifications.recipients import Directory, RecipientDirectory, ShopperDirectory, for_one_event
from bot.notifications.senders import Sender
from bot.notifications.shoppers import shopper_subscribers
from commerce_core.api import Commerce, DomainEvent, OutboxEnvelope, OutboxSubscribers
from dialogs.texts import Texts

log = logging.getLogger(__name__)
E = TypeVar("E", bound=DomainEvent)


class DeliveryFailed(Exception):
    """Some addresses of a notification could not be reached; the outbox retries the event (the
    addresses that were reached de-duplicate the retry)."""


class Notifier:
    """Notification subscribers per event type, and their delivery through ``senders`` (by channel).

    ``senders`` stays a plain dict: channels add their sender to it when they are wired.
    """

    def __init__(
        self,
        commerce: Commerce,
        texts: Texts,
        senders: dict[str, Sender],
        *,
        directory: RecipientDirectory | None = None,
        subscribers: NotificationSubscribers | None = None,
    ) -> None:
        self.commerce = commerce
        self.texts = texts
        self.senders = senders
        self.directory: RecipientDirectory = directory or Directory(ShopperDirectory(commerce))
        self.subscribers = subscribers if subscribers is not None else shopper_subscribers()

    def subscribe(self, event_type: type[E], subscriber: NotificationSubscriber[E]) -> None:
        """Add a notification for ``event_type`` (merchants' and staff's come this way)."""
        self.subscribers.subscribe(event_type, subscriber)

    def attach(self, outbox: OutboxSubscribers) -> None:
        """Subscribe this notifier to the outbox for every event type it has notifications for."""
        for event_type in self.subscribers.event_types():
            outbox.subscribe(event_type, self.notify)

    async def handle(self, envelope: OutboxEnvelope) -> None:
        """The relay's handler when the notifier is the only outbox subscriber."""
        if self.subscribers.of(envelope.event_type):
            await self.notify(envelope.event(), envelope)

    async def compose(
        self, event: DomainEvent, message: OutboxEnvelope, directory: RecipientDirectory | None = None
    ) -> list[Notification]:
        """Every notification ``event`` gives rise to, in subscription order."""
        writing = Writing(message, self.texts, directory or self.directory)
        notifications: list[Notification] = []
        for subscriber in self.subscribers.of(event.name):
            notifications += await subscriber(event, writing)
        return notifications

    async def notify(self, event: DomainEvent, message: OutboxEnvelope) -> None:
        # the recipients' languages, addresses and members, looked up once for this event only
        directory = for_one_event(self.directory)
        failures: list[tuple[Any, BaseException]] = []
        for notification in await self.compose(event, message, directory):
            failures += await self.deliver(notification, directory)
        if failures:
            where, first = failures[0]
            raise DeliveryFailed(
                f"{len(failures)} address(es) failed, first {where}: {type(first).__name__}: {first}"
            ) from first

    async def deliver(
        self, notification: Notification, directory: RecipientDirectory | None = None
    ) -> list[tuple[Any, BaseException]]:
        """Push to every address of the recipient; one failing address does not keep the others
        from theirs. Returns the failures (address, error)."""
        failures: list[tuple[Any, BaseException]] = []
        for address in await (directory or self.directory).addresses_of(notification.recipient):
            sender = self.senders.get(address.channel)
            if sender is None:
                continue  # a channel this deployment does not run: nothing to push to
            try:
                await sender.push(address.user_id, notification.replies, notification.dedup_key)
            except Exception as exc:  # noqa: BLE001 - reported to the relay after the others
                log.warning("push to %s failed: %s: %s", address, type(exc).__name__, exc)
                failures.append((address, exc))
        return failures
