"""Notifications: outbox events -> messages to a recipient (shopper, merchant or staff) on the
channels that recipient uses, in their language.

* :mod:`.recipients`: who a notification is for, and the directory that finds their addresses.
* :mod:`.compose`: what a subscriber returns (:class:`Notification`) and composes with.
* :mod:`.notifier`: :class:`Notifier`, the notification subscribers per event type and their
  delivery through the channels' senders.
* :mod:`.shoppers`: what shoppers are told (payment, shipping, delivery, refunds, cases).
* :mod:`.senders`: the :class:`Sender` protocol and the Redis inbox of the console and web chat.

The merchant and staff issues add subscribers (``notifier.subscribe(OrderPlaced, ...)``) and an
operator directory; nothing here changes for them (see ``docs/notifications.md``).
"""

from __future__ import annotations

from bot.notifications.compose import Notification, NotificationSubscriber, NotificationSubscribers, Writing
from bot.notifications.notifier import DeliveryFailed, Notifier
from bot.notifications.recipients import (
    Address,
    Directory,
    Merchant,
    NoOperators,
    Recipient,
    RecipientDirectory,
    Shopper,
    ShopperDirectory,
    StaffMember,
    StaffQueue,
)
from bot.notifications.senders import InboxSender, Sender
from bot.notifications.shoppers import shopper_subscribers

__all__ = [
    "Address",
    "DeliveryFailed",
    "Directory",
    "InboxSender",
    "Merchant",
    "NoOperators",
    "Notification",
    "NotificationSubscriber",
    "NotificationSubscribers",
    "Notifier",
    "Recipient",
    "RecipientDirectory",
    "Sender",
    "Shopper",
    "ShopperDirectory",
    "StaffMember",
    "StaffQueue",
    "Writing",
    "shopper_subscribers",
]
