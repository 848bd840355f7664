"""What merchants are told about their listings (R4.3-2): a reviewer's decision, with the reason.

Every user of the merchant with a bound Telegram or WeChat identity gets it in their own language,
through the outbox like every notification (retried, never dropped; one per user and event). The
console shows the same decision on the listing's page.
"""

from __future__ import annotations

from bot.notifications.compose import Notification, Phrase, Writing
from bot.notifications.notifier import Notifier
from commerce_core.api import Commerce, ListingReviewed, NotFound, pick_language
from dialogs.messages import Reply, TextReply


class ListingDecisionForMerchant:
    """The ListingReviewed subscriber."""

    def __init__(self, commerce: Commerce) -> None:
        self._commerce = commerce

    async def __call__(self, event: ListingReviewed, writing: Writing) -> list[Notification]:
        try:
            product = await self._commerce.catalog.get_product(event.product_code, live_only=False)
        except NotFound:
            return []  # the listing is gone: nothing to tell

        def write(t: Phrase, lang: str) -> list[Reply]:
            key = f"listings.notify.{event.decision}"
            kind = t(f"listings.notify.kind.{event.kind}")
            reason = t("listings.notify.reason", reason=event.reason) if event.reason else ""
            name = pick_language(product.name, lang)
            return [TextReply(t(key, name=name, code=event.product_code, kind=kind, reason=reason))]

        return await writing.to_merchant_users(event.merchant_id, write)


def notify_listing_decisions(notifier: Notifier, commerce: Commerce) -> Notifier:
    """Tell merchants their listings' review decisions (after :func:`notify_merchants` set the
    directory that finds merchant users)."""
    notifier.subscribe(ListingReviewed, ListingDecisionForMerchant(commerce))
    return notifier
