"""What the shopper is told by a merchant's console: a cancelled part of their paid order (R4.4: which
seller, the seller's reason, the refund on its way) and the seller's answer to their product question
(R4.1-4), in the shopper's language on their channel.

Through the outbox like every notification (retried, never dropped, one per event). The refund's own
"refund sent" notice follows when the payment provider confirms it.
"""

from __future__ import annotations

from bot.notifications.compose import Notification, Phrase, Writing
from bot.notifications.notifier import Notifier
from bot.notifications.recipients import Shopper
from commerce_core.api import (
    Commerce,
    Money,
    NotFound,
    OrderPartCancelled,
    ProductQuestionAnswered,
    pick_language,
)
from dialogs.messages import Button, Reply, TextReply
from dialogs.payloads import ShowProduct, encode


class PartCancelledForShopper:
    """The OrderPartCancelled subscriber."""

    def __init__(self, commerce: Commerce) -> None:
        self._commerce = commerce

    async def __call__(self, event: OrderPartCancelled, writing: Writing) -> list[Notification]:
        try:
            names = (await self._commerce.merchants.get(event.merchant_code)).name
        except NotFound:
            names = {}
        shopper = Shopper(event.customer_id)
        lang = await writing.directory.language_of(shopper)
        seller = pick_language(names, lang) if names and lang else event.merchant_code
        amount = Money(event.refund_amount, event.currency).format()
        key = "morders.order_cancelled" if event.whole_order else "morders.part_cancelled"
        number = event.order_number

        def write(t: Phrase) -> list[Reply]:
            button = Button(t("button.my_orders"), f"order:{number}")
            text = t(key, seller=seller, number=number, reason=event.reason, amount=amount)
            return [TextReply(text, (button,))]

        return await writing.to(shopper, write)


class AnswerForShopper:
    """The ProductQuestionAnswered subscriber (R4.1-4): the seller's answer, in the shopper's language."""

    def __init__(self, commerce: Commerce) -> None:
        self._commerce = commerce

    async def __call__(self, event: ProductQuestionAnswered, writing: Writing) -> list[Notification]:
        try:
            names = (await self._commerce.catalog.get_product(event.product_code, live_only=False)).name
        except NotFound:
            names = {}
        shopper = Shopper(event.customer_id)
        lang = await writing.directory.language_of(shopper)
        product = pick_language(names, lang) if names and lang else event.product_code

        def write(t: Phrase) -> list[Reply]:
            text = t("questions.answered", product=product, question=event.question, answer=event.answer)
            return [
                TextReply(
                    text, (Button(t("questions.view_button"), encode(ShowProduct(event.product_code))),)
                )
            ]

        return await writing.to(shopper, write)


def notify_part_cancellations(notifier: Notifier, commerce: Commerce) -> Notifier:
    """Tell shoppers when a merchant cancels its part of their order, and a seller's answers to their
    product questions."""
    notifier.subscribe(OrderPartCancelled, PartCancelledForShopper(commerce))
    notifier.subscribe(ProductQuestionAnswered, AnswerForShopper(commerce))
    return notifier
