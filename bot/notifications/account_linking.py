"""What a shopper hears when another chat account joined theirs (R5.1-3): on the channels they used
before, and in their language, the channel that was linked in ("your account was linked to Telegram;
if this was not you, ..."), or, for a second device on a channel they already use, that it signed in.
Staff hear of a new channel through the anomaly alerts (``bot.alerts``)."""

from __future__ import annotations

from bot.notifications.compose import Notification, Phrase, Writing
from bot.notifications.recipients import Shopper
from commerce_core.api import AccountLinked, split_channels
from dialogs.messages import Reply, TextReply


async def account_linked(event: AccountLinked, writing: Writing) -> list[Notification]:
    joined = list(event.joined)
    everywhere = await writing.directory.addresses_of(Shopper(event.customer_id))
    _, added = split_channels([(a.channel, a.user_id) for a in everywhere], joined)

    def write(t: Phrase) -> list[Reply]:
        if added:
            names = t("alerts.list_separator").join(t(f"alerts.channel.{c}") for c in added)
            return [TextReply(t("alerts.account_linked_channel", channels=names))]
        return [TextReply(t("notify.account_linked"))]

    return await writing.to(Shopper(event.customer_id, tuple(joined)), write)
