"""What a chat applicant is told when a reviewer decides their merchant application (R4.2-2).

The decision goes out through the outbox like every notification (retried, never dropped), to the
shopper account the applicant applied from, in the language they applied in, with the reviewer's
reasons and suggestions when rejected. A back-office applicant reads the decision on their
application page instead (the event then names no customer and nobody is pushed to).
"""

from __future__ import annotations

from bot.notifications.compose import Notification, Writing
from bot.notifications.notifier import Notifier
from bot.notifications.recipients import Shopper
from commerce_core.api import MerchantApplicationReviewed
from dialogs.messages import Reply, TextReply


async def application_reviewed(event: MerchantApplicationReviewed, writing: Writing) -> list[Notification]:
    if event.customer_id is None:
        return []
    lang = event.language

    def t(key: str, **params: str) -> str:
        return writing.texts.get(lang, key, **params)

    if event.status == "approved":
        text = t("onboarding.notify.approved", application=event.application_id)
    else:
        text = t(
            "onboarding.notify.rejected",
            application=event.application_id,
            reasons=event.reasons or "—",
            suggestions=event.suggestions or "—",
        )
    replies: list[Reply] = [TextReply(text)]
    return [Notification(Shopper(event.customer_id), replies, writing.dedup_key)]


def notify_applicants(notifier: Notifier) -> Notifier:
    notifier.subscribe(MerchantApplicationReviewed, application_reviewed)
    return notifier
