"""Talking to a person (handoff), complaints and feedback, and the small talk around shopping."""

from __future__ import annotations

from commerce_core.api import TicketKind
from dialogs.context import Turn
from dialogs.flows.base import Flow, StepSpec
from dialogs.messages import HandoffNotice
from dialogs.payloads import Help, Human, LeaveMessage, MyOrders, Popular, ViewCart


async def human(turn: Turn, reason: str = "shopper asked for a person") -> None:
    """Hand the conversation to a person: the shopper waits in the queue (told their position and the
    expected wait) until an agent claims it; outside working hours they are offered a ticket instead."""
    support = turn.commerce.support
    if not support.staffed_at(turn.commerce.clock.now()):
        settings = support.settings
        turn.say(
            "handoff.closed_hours",
            turn.button("button.leave_message", LeaveMessage()),
            turn.button("button.help", Help()),
            start=settings.working_hours_start,
            end=settings.working_hours_end,
        )
        return
    ticket = await support.open(
        turn.message.conversation_key,
        turn.message.channel,
        reason,
        customer_id=turn.customer_id,
        language=turn.lang,
    )
    turn.state.handoff_ticket = ticket.number
    turn.state.active = None
    turn.note("handoff")
    turn.state.suspended = []
    minutes = support.expected_wait_minutes(ticket.queue_position)
    turn.send(
        HandoffNotice(
            ticket.number,
            ticket.queue_position,
            turn.t("handoff.queued", number=ticket.number, position=ticket.queue_position, minutes=minutes),
        )
    )


async def leave_message(turn: Turn) -> None:
    """Nobody can take over now: what the shopper writes next becomes a ticket staff answer later."""
    turn.begin("complaint", "message")
    turn.say("handoff.ask_message")


async def on_message(turn: Turn) -> None:
    turn.finish()
    ticket = await turn.commerce.support.open(
        f"{turn.message.conversation_key}:message:{turn.state.turns}",
        turn.message.channel,
        turn.nlu.text.strip()[:500] or "-",
        customer_id=turn.customer_id,
        kind=TicketKind.MESSAGE,
        language=turn.lang,
    )
    turn.say("complaint.recorded", number=ticket.number)


async def complaint(turn: Turn) -> None:
    text = turn.nlu.text.strip()
    cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    if cjk >= 10 or len(text.split()) >= 8:  # the complaint already says what happened
        await record(turn, text)
        return
    turn.begin("complaint", "details")
    turn.say("complaint.ask_details")


async def on_details(turn: Turn) -> None:
    turn.finish()
    await record(turn, turn.nlu.text.strip() or "-")


async def record(turn: Turn, text: str) -> None:
    ticket = await turn.commerce.support.open(
        f"{turn.message.conversation_key}:feedback:{turn.state.turns}",
        turn.message.channel,
        f"complaint: {text[:480]}",
        customer_id=turn.customer_id,
        kind=TicketKind.COMPLAINT,
        language=turn.lang,
    )
    turn.say("complaint.recorded", number=ticket.number)


async def greet(turn: Turn) -> None:
    turn.say(
        "greet.hello",
        turn.button("button.popular", Popular()),
        turn.button("button.view_cart", ViewCart()),
        turn.button("button.my_orders", MyOrders()),
        turn.button("button.help", Help()),
    )


async def goodbye(turn: Turn) -> None:
    turn.say("goodbye.bye")


async def thanks(turn: Turn) -> None:
    turn.say("thanks.welcome")


async def help_(turn: Turn) -> None:
    turn.say(
        "help.text",
        turn.button("button.popular", Popular()),
        turn.button("button.view_cart", ViewCart()),
        turn.button("button.my_orders", MyOrders()),
        turn.button("button.human", Human()),
    )


async def fallback(turn: Turn) -> None:
    turn.state.misunderstood += 1
    if turn.state.misunderstood >= turn.settings.max_misunderstandings:
        turn.say(
            "fallback.offer_human", turn.button("button.human", Human()), turn.button("button.help", Help())
        )
    else:
        turn.say(
            "fallback.unclear", turn.button("button.help", Help()), turn.button("button.popular", Popular())
        )


async def resume(turn: Turn) -> None:
    turn.say("complaint.ask_details")


COMPLAINT = Flow(
    "complaint",
    complaint,
    {
        "details": StepSpec(on_details, expects=None, interruptible=False),
        "message": StepSpec(on_message, expects=None, interruptible=False),
    },
    resume=resume,
)
