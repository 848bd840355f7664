"""The anomaly rules on the outbox: each watched event runs its rule in the core, and every alert the
core raised reaches staff (bound admins' chats and the Telegram staff group's general topic).

Why outbox subscribers rather than a timer: the events are committed with the facts (a failed
payment, a placed order, a refund, a linking), delivered at least once by whichever relay claims them,
and the core stores each alert once per rule, subject and window under a unique key, so several
processes and retries never alert twice. The alert itself is an outbox event (``AlertRaised``) written
with its row, so its message to staff is retried until posted and never lost.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from bot.alerts.describe import summary
from bot.alerts.settings import AlertSettings
from bot.notifications.compose import Notification, Phrase, Writing
from bot.notifications.notifier import Notifier
from bot.notifications.recipients import StaffQueue
from commerce_core.api import (
    AccountLinked,
    AlertRaised,
    Commerce,
    CustomerErased,
    DomainError,
    NotFound,
    OrderPlaced,
    PaymentFailed,
    RefundSucceeded,
)
from dialogs.messages import Reply, TextReply

log = logging.getLogger(__name__)

#: who hears of an alert in chat: the admins' queue, which the staff group relays to its general topic
ALERT_QUEUE = StaffQueue("admin")


class AnomalyWatch:
    """One subscriber per watched event; rule subscribers tell nobody themselves (they return [])."""

    def __init__(self, commerce: Commerce) -> None:
        self.commerce = commerce

    @staticmethod
    async def _evaluate(rule: str, evaluation: Awaitable[object], writing: Writing) -> list[Notification]:
        """Run one rule. A database failure propagates, so the relay retries the event (the alert's
        unique key makes the retry harmless); a problem with the data itself (a value the rule cannot
        read) would fail every retry and hold up the shopper's other messages behind it, so it is
        logged and the rule skipped for this event."""
        try:
            await evaluation
        except (DomainError, ValueError, LookupError):
            log.exception("anomaly rule %s skipped outbox message %s", rule, writing.message.id)
        return []

    async def payment_failed(self, event: PaymentFailed, writing: Writing) -> list[Notification]:
        alerts = self.commerce.alerts
        return await self._evaluate(
            "payment_failed", alerts.payment_failed(event.order_number, event.customer_id), writing
        )

    async def order_placed(self, event: OrderPlaced, writing: Writing) -> list[Notification]:
        return await self._evaluate(
            "order_placed", self.commerce.alerts.order_placed(event.order_number), writing
        )

    async def refund_succeeded(self, event: RefundSucceeded, writing: Writing) -> list[Notification]:
        alerts = self.commerce.alerts
        return await self._evaluate(
            "refund_succeeded", alerts.refund_succeeded(event.order_number, event.customer_id), writing
        )

    async def account_linked(self, event: AccountLinked, writing: Writing) -> list[Notification]:
        alerts = self.commerce.alerts
        return await self._evaluate(
            "account_linked", alerts.account_linked(event.customer_id, list(event.joined)), writing
        )

    async def customer_erased(self, event: CustomerErased, writing: Writing) -> list[Notification]:
        await self.commerce.alerts.forget_customer(event.customer_id)
        return []

    async def alert_raised(self, event: AlertRaised, writing: Writing) -> list[Notification]:
        try:
            alert = await self.commerce.alerts.get(event.alert_id)
        except NotFound:
            return []

        def write(t: Phrase) -> list[Reply]:
            header = t("alerts.staff_header", id=alert.public_id, rule=t(f"alerts.rule.{alert.rule.value}"))
            return [TextReply(f"{header}\n{summary(alert, t)}")]

        return await writing.to(ALERT_QUEUE, write, dedup_key=f"{writing.dedup_key}:alert")


def watch_anomalies(notifier: Notifier, commerce: Commerce, settings: AlertSettings) -> Notifier:
    """Set the rules' thresholds and subscribe them (bootstrap calls this once)."""
    commerce.alerts.thresholds = settings.core()
    watch = AnomalyWatch(commerce)
    notifier.subscribe(AlertRaised, watch.alert_raised)  # alerts raised before a restart still go out
    notifier.subscribe(CustomerErased, watch.customer_erased)
    if settings.enabled:
        notifier.subscribe(PaymentFailed, watch.payment_failed)
        notifier.subscribe(OrderPlaced, watch.order_placed)
        notifier.subscribe(RefundSucceeded, watch.refund_succeeded)
        notifier.subscribe(AccountLinked, watch.account_linked)
    return notifier
