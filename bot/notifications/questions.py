"""What a merchant is told when a shopper sends a product question (R4.1-4).

The console lists open questions and refreshes itself, but a merchant user is not always looking at
it; like a paid order, a new question reaches every user of the merchant who bound a Telegram or
WeChat identity, each in their own language: the product's name, the question, and the console page
where it is answered (the chat has no answering step; the console keeps the audit trail). Nothing
about the shopper is in it. Through the outbox like every notification: retried, never dropped, and
one per user and question (the de-duplication key names both).
"""

from __future__ import annotations

from bot.notifications.compose import Notification, Phrase, Writing
from bot.notifications.notifier import Notifier
from commerce_core.api import Commerce, NotFound, ProductQuestionAsked, pick_language
from dialogs.messages import Reply, TextReply

#: the merchant console's page of questions, under the back office's prefix
QUESTIONS_PAGE = "/admin/merchant/questions"


class QuestionForMerchant:
    """The ProductQuestionAsked subscriber."""

    def __init__(self, commerce: Commerce, public_base_url: str) -> None:
        self._commerce = commerce
        self._page = public_base_url.rstrip("/") + QUESTIONS_PAGE

    def link(self, question_id: str) -> str:
        """The console page, scrolled to this question (its row carries the id as anchor)."""
        return f"{self._page}#{question_id}"

    async def __call__(self, event: ProductQuestionAsked, writing: Writing) -> list[Notification]:
        try:
            product = await self._commerce.catalog.get_product(event.product_code, live_only=False)
        except NotFound:
            return []  # the listing is gone: nothing left to answer about
        link = self.link(event.question_id)

        def write(t: Phrase, lang: str) -> list[Reply]:
            name = pick_language(product.name, lang)
            return [TextReply(t("questions.for_seller", product=name, question=event.question, link=link))]

        return await writing.to_merchant_users(event.merchant_id, write)


def notify_new_questions(notifier: Notifier, commerce: Commerce, public_base_url: str) -> Notifier:
    """Tell merchants of shoppers' new product questions (after :func:`notify_merchants` set the
    directory that finds merchant users)."""
    notifier.subscribe(ProductQuestionAsked, QuestionForMerchant(commerce, public_base_url))
    return notifier
