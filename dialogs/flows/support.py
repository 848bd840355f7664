"""Talking to a person (handoff), complaints and feedback, and the small talk around shopping."""

from __future__ import annotations

from dialogs.context import Turn
from dialogs.flows.base import Flow, StepSpec
from dialogs.messages import HandoffNotice
from dialogs.payloads import Help, Human, MyOrders, Popular, ViewCart


async def human(turn: Turn, reason: str = "shopper asked for a person") -> None:
    ticket = await turn.commerce.support.open(
        turn.message.conversation_key, turn.message.channel, reason, customer_id=turn.customer_id
    )
    turn.state.handoff_ticket = ticket.number
    turn.state.active = None
    turn.state.suspended = []
    turn.send(
        HandoffNotice(
            ticket.number,
            ticket.queue_position,
            turn.t("handoff.queued", number=ticket.number, position=ticket.queue_position),
        )
    )


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
    {"details": StepSpec(on_details, expects=None, interruptible=False)},
    resume=resume,
)
