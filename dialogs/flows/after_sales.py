"""After-sales: return, refund, exchange, repair. Pick the order and item, give a reason, add an
optional photo, confirm; the case number and the 24-hour first-response promise come back."""

from __future__ import annotations

from commerce_core.api import CaseItemRequest, CaseKind, NotFound
from dialogs.context import Turn
from dialogs.flows.base import Flow, StepSpec
from dialogs.flows.case_desk import (
    ask_answer,
    ask_parcel,
    ask_variant,
    classify_reason,
    desk_turn,
    on_answer,
    on_parcel,
    on_variant,
    rate,
)
from dialogs.flows.common import local_time, options_text, ordinal_index, status_label
from dialogs.messages import Button

# the reason codes are declared with the payloads: a reason button carries one of them
from dialogs.payloads import REASONS, AfterSalesLine, AfterSalesOrder, AfterSalesReason, Skip

KIND_BY_INTENT = {"return_refund": CaseKind.RETURN, "exchange": CaseKind.EXCHANGE, "repair": CaseKind.REPAIR}
ELIGIBLE = ("delivered", "completed")
REFUND_WORDS = ("refund", "退款", "退钱", "退錢")
#: the words that make a message at the reason step ask for another kind of case ("我要换大一码" while
#: returning): the classifier's intent alone is not enough, the reason itself often sounds like one
SWITCH_WORDS = {
    CaseKind.EXCHANGE: ("换", "換", "exchange", "swap", "instead"),
    CaseKind.REPAIR: ("修", "repair", "fix"),
    CaseKind.RETURN: ("退货", "退貨", "return"),
    CaseKind.REFUND: REFUND_WORDS,
}


def _kind(turn: Turn) -> CaseKind:
    kind = KIND_BY_INTENT.get(turn.nlu.intent, CaseKind.RETURN)
    if (
        kind is CaseKind.RETURN
        and any(w in turn.nlu.text.lower() for w in REFUND_WORDS)
        and not any(w in turn.nlu.text for w in ("退货", "退貨", "return"))
    ):
        kind = CaseKind.REFUND
    return kind


async def start(turn: Turn) -> None:
    if await desk_turn(turn):
        return
    await begin(turn, _kind(turn), turn.entity("order_number"))


async def begin(turn: Turn, kind: CaseKind, number: str | None) -> None:
    turn.begin("after_sales", "order", kind=kind.value)
    if number:
        await choose_order(turn, str(number))
        return
    orders = [
        o for o in await turn.commerce.orders.for_customer(turn.customer_id, limit=10) if o.status in ELIGIBLE
    ]
    if not orders:
        turn.finish()
        turn.say("after_sales.no_orders")
        return
    if len(orders) == 1:
        await choose_order(turn, orders[0].number)
        return
    buttons = [
        Button.of(f"{o.number} {o.lines[0].title(turn.lang)[:14]}", AfterSalesOrder(o.number))
        for o in orders[:6]
    ]
    turn.say("after_sales.pick_order", *buttons, kind=turn.t(f"case_kind.{kind.value}"))


async def choose_order(turn: Turn, number: str) -> None:
    try:
        order = await turn.commerce.orders.get(number, customer_id=turn.customer_id)
    except NotFound:
        turn.say("order.not_found", number=number)
        return
    if order.status not in ELIGIBLE:
        turn.finish()
        turn.say("after_sales.not_yet", number=order.number, status=status_label(turn, order.status))
        return
    if turn.state.active is None or turn.state.active.flow != "after_sales":
        turn.begin("after_sales", "order", kind=CaseKind.RETURN.value)
    turn.goto("item", order=order.number)
    if len(order.lines) == 1:
        await choose_item(turn, 1, order.lines[0].quantity)
        return
    buttons = [
        Button.of(
            f"{line.title(turn.lang)[:16]} {options_text(turn, line.options)}", AfterSalesLine(line.line_no)
        )
        for line in order.lines
    ]
    turn.say("after_sales.pick_item", *buttons)


async def on_order(turn: Turn) -> None:
    number = turn.entity("order_number")
    if number:
        await choose_order(turn, str(number))
    else:
        turn.say("after_sales.pick_order_again")


async def on_item(turn: Turn) -> None:
    order = await turn.commerce.orders.get(str(turn.slots["order"]), customer_id=turn.customer_id)
    index = ordinal_index(turn, len(order.lines))
    if index is None:
        turn.say("after_sales.pick_item_again")
        return
    await choose_item(turn, order.lines[index].line_no, order.lines[index].quantity)


async def choose_item(turn: Turn, line_no: int, quantity: int) -> None:
    if turn.slots.get("kind") in (CaseKind.EXCHANGE.value, CaseKind.REPAIR.value):
        quantity = 1  # one unit is exchanged or repaired; returns and refunds take the whole line
    turn.goto("reason", line=line_no, quantity=quantity)
    buttons = [Button.of(turn.t(f"reason.{code}"), AfterSalesReason(code)) for code in REASONS]
    turn.say("after_sales.ask_reason", *buttons)


async def on_reason(turn: Turn) -> None:
    """A typed reason: kept as the description, classified roughly for the policy. A new request of
    another kind ("我要换大一码" while returning) changes the case's kind, not just its reason."""
    text = turn.nlu.text.strip()
    if not text:
        turn.say("after_sales.ask_reason_again")
        return
    if (kind := _switched_kind(turn)) is not None:
        quantity = int(turn.slots.get("quantity", 1))
        if kind in (CaseKind.EXCHANGE, CaseKind.REPAIR):
            quantity = 1
        turn.goto("reason", kind=kind.value, quantity=quantity)
        turn.say("case_switch.switched", kind=turn.t(f"case_kind.{kind.value}"))
        if classify_reason(text) == "other":  # "我要换货": the kind, but no reason yet
            buttons = [Button.of(turn.t(f"reason.{code}"), AfterSalesReason(code)) for code in REASONS]
            turn.say("after_sales.ask_reason", *buttons)
            return
    await choose_reason(turn, classify_reason(text), text)


def _switched_kind(turn: Turn) -> CaseKind | None:
    """The other kind of case this message asks for, with that kind's own words, if any."""
    if turn.nlu.intent not in KIND_BY_INTENT:
        return None
    wanted = _kind(turn)
    lowered = turn.nlu.text.lower()
    if wanted.value == turn.slots.get("kind") or not any(w in lowered for w in SWITCH_WORDS[wanted]):
        return None
    return wanted


async def choose_reason(turn: Turn, code: str, text: str | None = None) -> None:
    turn.goto("photo", reason=code, reason_text=text)
    turn.say("after_sales.ask_photo", turn.button("button.skip", Skip(AFTER_SALES.name)))


async def on_photo(turn: Turn) -> None:
    photos = [a.url or "photo" for a in turn.message.attachments if a.kind == "image"]
    if (
        not photos  # the skip button arrives as "deny"
        and turn.nlu.intent not in ("deny", "affirm")
        and not any(w in turn.nlu.text.lower() for w in ("skip", "跳过", "跳過", "没有", "沒有", "no"))
    ):
        turn.say("after_sales.ask_photo_again", turn.button("button.skip", Skip(AFTER_SALES.name)))
        return
    await open_case(turn, photos)


async def open_case(turn: Turn, photos: list[str]) -> None:
    slots = turn.slots
    turn.finish()
    case = await turn.commerce.after_sales.open(
        turn.customer_id,
        str(slots["order"]),
        CaseKind(slots["kind"]),
        [CaseItemRequest(int(slots["line"]), int(slots.get("quantity", 1)))],
        reason_code=str(slots["reason"]),
        reason_text=slots.get("reason_text"),
        photos=photos,
    )
    turn.say(
        "after_sales.opened",
        number=case.number,
        kind=turn.t(f"case_kind.{case.kind}"),
        due=local_time(turn, case.first_response_due_at),
    )
    if case.quality_issue:
        turn.say("after_sales.quality_note")
    if case.kind == CaseKind.EXCHANGE.value:
        await ask_variant(turn, case)  # which size or colour instead (dialogs.flows.case_desk)


async def resume(turn: Turn) -> None:
    step = turn.state.active.step if turn.state.active else ""
    turn.say(
        {
            "order": "after_sales.pick_order_again",
            "item": "after_sales.pick_item_again",
            "reason": "after_sales.ask_reason_again",
            "photo": "after_sales.ask_photo_again",
            "parcel": "desk.ask_parcel_again",
            "variant": "desk.ask_variant_again",
        }.get(step, "after_sales.pick_order_again")
    )


AFTER_SALES = Flow(
    "after_sales",
    start,
    {
        "order": StepSpec(on_order, expects="order_number"),
        "item": StepSpec(on_item, expects="ordinal"),
        "reason": StepSpec(on_reason, expects=None),
        "photo": StepSpec(on_photo, expects=None),
        # the after-sales desk (dialogs.flows.case_desk): the return parcel and an answer to staff
        "parcel": StepSpec(on_parcel, expects="tracking_number"),
        "answer": StepSpec(on_answer, expects=None, interruptible=False),
        "variant": StepSpec(on_variant, expects=None),
    },
    resume=resume,
    own_intents=frozenset({"return_refund", "exchange", "repair", "complaint"}),
)

__all__ = ["AFTER_SALES", "ask_answer", "ask_parcel", "begin", "choose_item", "choose_order", "rate"]
