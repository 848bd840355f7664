"""What the shopper is told while and after a person handles their conversation: the agent's replies
(in the order written: the events share the shopper's ordering key), the bot taking over again, and
the 1-5 rating question after a resolution.

Why through the outbox and not straight from the console: the reply is committed with the message
history in one transaction, survives a restart, and reaches every channel (web chat inbox, Telegram,
WeChat customer-service messages) through the same senders and rate limiter as other notifications.
"""

from __future__ import annotations

from bot.notifications.compose import Notification, NotificationSubscribers, Phrase, Writing
from bot.notifications.recipients import Shopper
from commerce_core.api import AgentReplied, HandoffEnded, TicketStatus
from dialogs.messages import Button, Reply, TextReply
from dialogs.payloads import Help, LeaveMessage


async def agent_replied(event: AgentReplied, writing: Writing) -> list[Notification]:
    def write(t: Phrase) -> list[Reply]:
        return [TextReply(t("handoff.agent", text=event.text))]

    return await writing.to(Shopper(event.customer_id), write)


async def handoff_ended(event: HandoffEnded, writing: Writing) -> list[Notification]:
    def write(t: Phrase) -> list[Reply]:
        if event.outcome == TicketStatus.TIMED_OUT:
            offer = Button.of(t("button.leave_message"), LeaveMessage())
            return [TextReply(t("handoff.timed_out"), (offer, Button.of(t("button.help"), Help())))]
        return [TextReply(t("handoff.resolved"))]

    return await writing.to(Shopper(event.customer_id), write)


def subscribe_handoff(subscribers: NotificationSubscribers) -> None:
    subscribers.subscribe(AgentReplied, agent_replied)
    subscribers.subscribe(HandoffEnded, handoff_ended)
