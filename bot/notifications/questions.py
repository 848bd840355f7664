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
from bot.notifications.recipients import KnowsMembers, Merchant, Recipient, StaffMember
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
        members: list[Recipient] = [Merchant(event.merchant_id)]
        if isinstance(writing.directory, KnowsMembers):
            members = await writing.directory.members_of(Merchant(event.merchant_id))
        link = self.link(event.question_id)
        found: list[Notification] = []
        for member in members:
            lang = await writing.directory.language_of(member)
            if lang is None:
                continue
            name = pick_language(product.name, lang)

            def write(t: Phrase, name: str = name) -> list[Reply]:
                text = t("questions.for_seller", product=name, question=event.question, link=link)
                return [TextReply(text)]

            who = member.user_id if isinstance(member, StaffMember) else f"m{event.merchant_id}"
            found += await writing.to(member, write, dedup_key=f"{writing.dedup_key}:op{who}")
        return found


def notify_new_questions(notifier: Notifier, commerce: Commerce, public_base_url: str) -> Notifier:
    """Tell merchants of shoppers' new product questions (after :func:`notify_merchants` set the
    directory that finds merchant users)."""
    notifier.subscribe(ProductQuestionAsked, QuestionForMerchant(commerce, public_base_url))
    return notifier
