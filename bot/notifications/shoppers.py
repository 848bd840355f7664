"""What shoppers are told, one subscriber per event type: payment received, shipped, delivered,
delayed, refunded, cancelled for want of payment, and their after-sales case moving on.

Buttons carry the payloads the dialogs answer (``order:NUMBER``, ``track:NUMBER``, ``as:NUMBER``).
"""

from __future__ import annotations

from bot.notifications.account_linking import account_linked
from bot.notifications.compose import Notification, NotificationSubscribers, Phrase, Writing
from bot.notifications.recipients import Shopper
from bot.notifications.staff_handoff import subscribe_handoff
from commerce_core.api import (
    AccountLinked,
    AfterSalesStatusChanged,
    Money,
    OrderCancelled,
    OrderShipped,
    PaymentCaptured,
    RefundSucceeded,
    ShipmentDelayed,
    ShipmentUpdated,
)
from dialogs.messages import Button, Reply, TextReply
from dialogs.payloads import ReviewOrder, encode


async def payment_captured(event: PaymentCaptured, writing: Writing) -> list[Notification]:
    amount = Money(event.amount, event.currency).format()
    number = event.order_number

    def write(t: Phrase) -> list[Reply]:
        button = Button(t("button.my_orders"), f"order:{number}")
        return [TextReply(t("pay.confirmed", amount=amount, number=number), (button,))]

    return await writing.to(Shopper(event.customer_id), write)


async def order_shipped(event: OrderShipped, writing: Writing) -> list[Notification]:
    number = event.order_number

    def write(t: Phrase) -> list[Reply]:
        button = Button(t("button.track"), f"track:{number}")
        return [TextReply(t("notify.shipped", number=number, tracking=event.tracking_number), (button,))]

    return await writing.to(Shopper(event.customer_id), write)


async def shipment_updated(event: ShipmentUpdated, writing: Writing) -> list[Notification]:
    if event.status != "delivered":
        return []  # the timeline is there to look at; only the arrival is worth a message
    number = event.order_number

    def write(t: Phrase) -> list[Reply]:
        button = Button(t("button.after_sales"), f"as:{number}")
        rate = Button(t("reviews.rate_button"), encode(ReviewOrder(number)))  # R5.3-1: ask for ratings
        return [TextReply(t("notify.delivered", number=number), (button, rate))]

    return await writing.to(Shopper(event.customer_id), write)


async def shipment_delayed(event: ShipmentDelayed, writing: Writing) -> list[Notification]:
    def write(t: Phrase) -> list[Reply]:
        return [TextReply(t("notify.delayed", number=event.order_number, hours=event.hours_without_event))]

    return await writing.to(Shopper(event.customer_id), write)


async def refund_succeeded(event: RefundSucceeded, writing: Writing) -> list[Notification]:
    amount = Money(event.amount, event.currency).format()

    def write(t: Phrase) -> list[Reply]:
        return [TextReply(t("notify.refunded", number=event.order_number, amount=amount))]

    return await writing.to(Shopper(event.customer_id), write)


async def order_cancelled(event: OrderCancelled, writing: Writing) -> list[Notification]:
    if event.reason != "payment_timeout":
        return []  # the shopper cancelled it in the chat and was answered there

    def write(t: Phrase) -> list[Reply]:
        return [TextReply(t("notify.cancelled_timeout", number=event.order_number))]

    return await writing.to(Shopper(event.customer_id), write)


async def case_status_changed(event: AfterSalesStatusChanged, writing: Writing) -> list[Notification]:
    def write(t: Phrase) -> list[Reply]:
        status = t(f"case_status.{event.to_status}")
        return [TextReply(t("notify.case_update", number=event.case_number, status=status))]

    return await writing.to(Shopper(event.customer_id), write)


def shopper_subscribers() -> NotificationSubscribers:
    """The shopper notifications, by event type."""
    subscribers = NotificationSubscribers()
    subscribers.subscribe(AccountLinked, account_linked)
    subscribers.subscribe(PaymentCaptured, payment_captured)
    subscribers.subscribe(OrderShipped, order_shipped)
    subscribers.subscribe(ShipmentUpdated, shipment_updated)
    subscribers.subscribe(ShipmentDelayed, shipment_delayed)
    subscribers.subscribe(RefundSucceeded, refund_succeeded)
    subscribers.subscribe(OrderCancelled, order_cancelled)
    subscribers.subscribe(AfterSalesStatusChanged, case_status_changed)
    subscribe_handoff(subscribers)  # the agent's replies and the hand-back (bot.notifications.staff_handoff)
    return subscribers
