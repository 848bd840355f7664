"""Order status and tracking, cancellation (refund when paid), address change before shipping, pay."""

from __future__ import annotations

from collections.abc import Callable

from commerce_core.api import NotFound, OrderView
from dialogs.context import Turn
from dialogs.flows.base import Flow, StepSpec
from dialogs.flows.checkout import payment_request
from dialogs.flows.common import local_time, order_summary, parse_address, status_label
from dialogs.messages import Button, TimelineEvent, TrackingTimeline
from dialogs.payloads import Action, AfterSales, CancelOrder, ChangeAddress, No, Pay, ShowOrder, Yes


async def find_order(turn: Turn, *, number: str | None = None) -> OrderView | None:
    number = number or turn.entity("order_number") or turn.slots.get("order")
    if number:
        order = turn.orders_read.get(str(number))
        if order is None:
            try:
                order = await turn.commerce.orders.get(str(number), customer_id=turn.customer_id)
            except NotFound:
                turn.say("order.not_found", number=number)
                return None
            turn.orders_read[order.number] = order
        turn.state.last_order = order.number
        return order
    return None


async def pick_order(
    turn: Turn, flow: str, action: Callable[[str], Action], *, statuses: tuple[str, ...] | None = None
) -> None:
    """Several orders could be meant: one button each, pressing it does ``action`` on that order."""
    orders = await turn.commerce.orders.for_customer(turn.customer_id, limit=5)
    turn.orders_read.update((o.number, o) for o in orders)
    if statuses is not None:
        orders = [o for o in orders if o.status in statuses]
    if not orders:
        turn.say("order.none_suitable" if statuses else "order.none")
        return
    if len(orders) == 1:
        await _dispatch(turn, flow, orders[0].number)
        return
    buttons = [
        Button.of(f"{o.number} {status_label(turn, o.status)} {o.total.format()}", action(o.number))
        for o in orders
    ]
    turn.say("order.pick", *buttons)


async def _dispatch(turn: Turn, flow: str, number: str) -> None:
    handlers = {
        "status": show_status,
        "track": track,
        "cancel": cancel_number,
        "chaddr": change_address_number,
        "pay": pay_number,
    }
    await handlers[flow](turn, number)


async def status(turn: Turn) -> None:
    order = await find_order(turn)
    if order is not None:
        await show_status(turn, order.number)
    elif turn.entity("tracking_number"):
        turn.say("order.tracking_number_unknown")
    else:
        await pick_order(turn, "status", ShowOrder)


async def show_status(turn: Turn, number: str) -> None:
    order = await find_order(turn, number=number)
    if order is None:
        return
    turn.send(order_summary(turn, order))
    if order.status in ("shipped", "delivered", "completed"):
        await track(turn, number, summary=False)


async def track(turn: Turn, number: str, *, summary: bool = True) -> None:
    order = await find_order(turn, number=number)
    if order is None:
        return
    try:
        shipment = await turn.commerce.shipments.track(order.number, customer_id=turn.customer_id)
        if await turn.commerce.shipments.refresh(shipment.tracking_number):
            shipment = await turn.commerce.shipments.track(order.number, customer_id=turn.customer_id)
    except NotFound:
        turn.say("track.not_shipped", status=status_label(turn, order.status))
        return
    events = tuple(
        TimelineEvent(local_time(turn, e.at), e.description.get(turn.lang) or e.description.get("en", ""))
        for e in reversed(shipment.events)
    )
    eta = (
        turn.t("track.eta", when=local_time(turn, shipment.eta))
        if shipment.eta and shipment.status != "delivered"
        else None
    )
    buttons = [turn.button("button.report_problem", AfterSales(order.number))] if shipment.delayed else []
    turn.send(
        TrackingTimeline(
            order.number,
            shipment.tracking_number,
            turn.t(
                "track.title",
                number=order.number,
                tracking=shipment.tracking_number,
                origin=shipment.origin,
                destination=shipment.destination,
            ),
            turn.t("track.status", status=turn.t(f"shipment.{shipment.status}")),
            eta,
            events,
            tuple(buttons),
        )
    )
    if shipment.delayed:
        turn.say("track.delayed")


async def cancel(turn: Turn) -> None:
    order = await find_order(turn)
    if order is not None:
        await cancel_number(turn, order.number)
    else:
        await pick_order(turn, "cancel", CancelOrder, statuses=("pending_payment", "paid"))


async def cancel_number(turn: Turn, number: str) -> None:
    order = await find_order(turn, number=number)
    if order is None:
        return
    if order.status not in ("pending_payment", "paid"):
        turn.say("cancel.too_late", status=status_label(turn, order.status))
        if order.status in ("shipped", "delivered", "completed"):
            turn.say("cancel.try_return", turn.button("button.after_sales", AfterSales(order.number)))
        return
    turn.begin("cancel_order", "confirm", order=order.number)
    key = "cancel.confirm_refund" if order.status == "paid" else "cancel.confirm"
    turn.say(
        key,
        turn.button("button.confirm_cancel", Yes(CANCEL.name)),
        turn.button("button.keep_order", No(CANCEL.name)),
        number=order.number,
        amount=order.total.format(),
    )


async def on_cancel_confirm(turn: Turn) -> None:
    number = str(turn.slots["order"])
    turn.finish()
    if turn.nlu.intent != "affirm":  # the yes button arrives as "affirm"
        turn.say("cancel.kept", number=number)
        return
    result = await turn.commerce.orders.cancel(
        number, actor=f"customer:{turn.customer_id}", reason="customer request", customer_id=turn.customer_id
    )
    if result.refund_id:
        turn.say("cancel.done_refund", number=number, amount=result.order.total.format())
    else:
        turn.say("cancel.done", number=number)


async def change_address(turn: Turn) -> None:
    order = await find_order(turn)
    if order is not None:
        await change_address_number(turn, order.number)
    else:
        await pick_order(turn, "chaddr", ChangeAddress, statuses=("pending_payment", "paid"))


async def change_address_number(turn: Turn, number: str) -> None:
    order = await find_order(turn, number=number)
    if order is None:
        return
    if order.status not in ("pending_payment", "paid"):
        turn.say("address.too_late", status=status_label(turn, order.status))
        return
    turn.begin("change_address", "address", order=order.number)
    turn.say("address.ask_new", number=order.number, current=order.masked_address)


async def on_new_address(turn: Turn) -> None:
    address = parse_address(turn.nlu.text, turn.display_name)
    if address is None:
        turn.say("checkout.address_unclear")
        return
    number = str(turn.slots["order"])
    turn.finish()
    order = await turn.commerce.orders.change_address(number, turn.customer_id, address)
    turn.say("address.changed", number=number, address=order.masked_address)


async def pay(turn: Turn) -> None:
    order = await find_order(turn)
    if order is None and turn.state.last_order:
        order = await find_order(turn, number=turn.state.last_order)
    if order is not None and order.status == "pending_payment":
        await payment_request(turn, order.number)
    elif order is not None:
        turn.say("pay.not_needed", number=order.number, status=status_label(turn, order.status))
    else:
        await pick_order(turn, "pay", Pay, statuses=("pending_payment",))


async def pay_number(turn: Turn, number: str, provider: str | None = None) -> None:
    """Pay the shopper's own order ``number`` (with ``provider`` when they picked one)."""
    order = await find_order(turn, number=number)
    if order is None:
        return
    if order.status != "pending_payment":
        turn.say("pay.not_needed", number=order.number, status=status_label(turn, order.status))
        return
    await payment_request(turn, order.number, provider)


async def sandbox_pay(turn: Turn, payment_id: str) -> None:
    """The sandbox's pay page, pressed: the provider calls us back; the confirmation is pushed."""
    result = await turn.commerce.payments.sandbox_pay(payment_id)
    if result.outcome in ("captured", "duplicate"):
        turn.say("pay.submitted")
    elif result.outcome == "refunding_late_payment":
        turn.say("pay.too_late_refunded")
    else:
        turn.say("pay.failed")


async def payment_methods(turn: Turn) -> None:
    turn.say("pay.methods")


async def resume_cancel(turn: Turn) -> None:
    turn.say(
        "cancel.confirm_again",
        turn.button("button.confirm_cancel", Yes(CANCEL.name)),
        turn.button("button.keep_order", No(CANCEL.name)),
        number=turn.slots.get("order", ""),
    )


async def resume_address(turn: Turn) -> None:
    turn.say("address.ask_again", number=turn.slots.get("order", ""))


CANCEL = Flow(
    "cancel_order",
    cancel,
    {"confirm": StepSpec(on_cancel_confirm, expects="affirm")},
    resume=resume_cancel,
    own_intents=frozenset({"cancel_order"}),
)
CHANGE_ADDRESS = Flow(
    "change_address",
    change_address,
    {"address": StepSpec(on_new_address, expects="address")},
    resume=resume_address,
    own_intents=frozenset({"change_address"}),
)
