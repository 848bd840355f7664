"""What the merchant and staff are told when a waybill service stops tracking a parcel for good.

Kuaidi100 gave up on the waybill twice (``commerce_core.shipments.stops``: the first time it was
subscribed again): most often the express company's code or the number is wrong, or the parcel never
left. Subscribing again would only loop, so people look at it: every user of the merchant who shipped
it (bound Telegram/WeChat chats, each in their own language) and the staff queue. Through the outbox:
retried, never dropped, once per recipient.
"""

from __future__ import annotations

from bot.notifications.compose import Notification, Phrase, Writing
from bot.notifications.notifier import Notifier
from bot.notifications.recipients import StaffQueue
from commerce_core.api import WaybillTrackingStopped
from dialogs.messages import Reply, TextReply


async def tracking_stopped(event: WaybillTrackingStopped, writing: Writing) -> list[Notification]:
    def write(t: Phrase, key: str) -> list[Reply]:
        reason = t("tracking.reason", reason=event.reason) if event.reason else ""
        text = t(
            key,
            number=event.tracking_number,
            company=event.company or "—",
            order=event.order_number,
            reason=reason,
        )
        return [TextReply(text)]

    found: list[Notification] = []
    if event.merchant_id is not None:
        found += await writing.to_merchant_users(
            event.merchant_id, lambda t, _lang: write(t, "tracking.stopped_merchant")
        )
    staff = StaffQueue("agent")
    found += await writing.to(
        staff, lambda t: write(t, "tracking.stopped_staff"), dedup_key=f"{writing.dedup_key}:staff"
    )
    return found


def notify_tracking_stops(notifier: Notifier) -> Notifier:
    """Tell merchants and staff of waybills their tracking service gave up on (after
    :func:`notify_merchants` set the directory that finds operators)."""
    notifier.subscribe(WaybillTrackingStopped, tracking_stopped)
    return notifier
