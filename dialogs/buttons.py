"""What each pressed button does: a table from action type to the flow function it runs.

Most buttons run one flow function with the action's fields as its arguments, in field order
(:data:`FLOWS`: ``ShowProduct(code)`` runs ``shopping.show(turn, code)``); the few that check something
first or adapt the arguments have a handler of their own (:data:`HANDLERS`). Both tables are checked
when the module loads: every action has exactly one entry, and every flow accepts the action's fields.

The engine decodes the payload (:mod:`dialogs.payloads`) and calls :func:`press`. A payload that does
not decode gets ``payload.invalid``; one that refers to something that no longer applies (the
after-sales step it belonged to is over, the line is not in the order) gets ``payload.stale``; an order,
product or address that is not the shopper's own is "not found" like one that does not exist. No
handler ever sees a raw string, so nothing unchecked reaches the core or the database.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Any

from commerce_core.api import CaseKind, NotFound
from dialogs.context import Turn
from dialogs.flows import (
    account,
    after_sales,
    cart,
    checkout,
    listing_reports,
    operator_chat,
    orders,
    questions,
    receipt,
    reviews,
    shopping,
    support,
)
from dialogs.flows.registry import waiting_step
from dialogs.payloads import (
    ACTIONS,
    Action,
    AddProduct,
    AddSku,
    AfterSales,
    AfterSalesLine,
    AfterSalesOrder,
    AfterSalesReason,
    AskSeller,
    BindPhone,
    CancelOrder,
    CaseAnswer,
    CaseParcel,
    ChangeAddress,
    Checkout,
    ConfirmReceipt,
    Decrease,
    EraseData,
    Expired,
    ExportData,
    Help,
    Human,
    Increase,
    InvalidPayload,
    Language,
    LeaveMessage,
    MoreResults,
    MyOrders,
    NewAddress,
    No,
    OrderHistory,
    Pay,
    PayWith,
    Popular,
    RateCase,
    RateProduct,
    Remove,
    ReportListing,
    ReportListingReason,
    ReviewOrder,
    SandboxPay,
    ShipOrder,
    ShowOrder,
    ShowProduct,
    Similar,
    Skip,
    Track,
    UseAddress,
    ViewCart,
    Yes,
    decode,
    fields_of,
)

log = logging.getLogger(__name__)
Flow = Callable[..., Awaitable[object]]
Handler = Callable[[Turn, Any], Awaitable[None]]


async def press(turn: Turn, payload: str) -> None:
    """Do what the pressed button asks, or say why it cannot be done; never raises for a bad payload."""
    try:
        action = decode(payload)
    except InvalidPayload as error:
        log.info("button payload rejected: %s", error)
        invalid(turn)
        return
    handler = HANDLERS.get(type(action))
    if handler is not None:
        await handler(turn, action)
    else:
        await FLOWS[type(action)](turn, *_arguments(action))


def _arguments(action: Action) -> list[object]:
    return [getattr(action, field.name) for field in fields_of(type(action))]


def invalid(turn: Turn) -> None:
    turn.say("payload.invalid", turn.button("button.help", Help()), turn.button("button.popular", Popular()))


def stale(turn: Turn) -> None:
    turn.say("payload.stale", turn.button("button.help", Help()))


# -- buttons that check something before (or instead of) running a flow -----------------------------------
async def _answer(turn: Turn, action: Yes | No | Skip) -> None:
    """A yes/no/skip button is the answer the waiting step asked for, as if typed, if it is that
    flow's button (or an old bare "yes" / "no")."""
    frame = turn.state.active
    if action.flow is not None and (frame is None or frame.flow != action.flow):
        stale(turn)  # the question this button answered is over; another may be waiting
        return
    intent = "affirm" if isinstance(action, Yes) else "deny"
    turn.nlu = dataclasses.replace(turn.nlu, intent=intent, confidence=1.0)
    step = waiting_step(turn.state)
    if step is not None:
        await step.run(turn)
    else:
        turn.say("flow.nothing_pending")


async def _expired(turn: Turn, _: Expired) -> None:
    turn.say("payload.expired", turn.button("button.help", Help()), turn.button("button.popular", Popular()))


async def _popular(turn: Turn, _: Popular) -> None:
    turn.state.focus_product = None
    await shopping.recommend(turn)


async def _add_sku(turn: Turn, action: AddSku) -> None:
    try:
        await cart.add_sku(turn, action.code, action.quantity)
    except NotFound as error:
        if error.code != "sku_not_found":
            raise
        turn.say("product.gone")  # a variant button from before the product was taken off sale


async def _new_address(turn: Turn, _: NewAddress) -> None:
    state = turn.state
    if state.active is None or state.active.flow != "checkout":
        turn.begin("checkout", "address")
    turn.goto("address")
    turn.say("checkout.ask_address")


async def _pay_with(turn: Turn, action: PayWith) -> None:
    """A provider picked from the web chat's choice; one this channel does not offer is stale."""
    if action.provider not in turn.settings.choices_for(turn.message.channel):
        stale(turn)
        return
    await orders.pay_number(turn, action.order_number, action.provider)


async def _after_sales(turn: Turn, action: AfterSales) -> None:
    await after_sales.begin(turn, CaseKind.RETURN, action.order_number)
    if _after_sales_slot(turn, "kind") and not _after_sales_slot(turn, "order"):
        turn.finish()  # not the shopper's order (or no longer there): no return is waiting on it


def _after_sales_slot(turn: Turn, slot: str) -> bool:
    """Whether an after-sales conversation is running and has got as far as ``slot``."""
    frame = turn.state.active
    return frame is not None and frame.flow == "after_sales" and slot in frame.slots


async def _after_sales_line(turn: Turn, action: AfterSalesLine) -> None:
    if not _after_sales_slot(turn, "order"):
        stale(turn)
        return
    try:
        order = await turn.commerce.orders.get(str(turn.slots["order"]), customer_id=turn.customer_id)
    except NotFound:
        turn.finish()
        stale(turn)
        return
    line = next((li for li in order.lines if li.line_no == action.line_no), None)
    if line is None:
        stale(turn)
        return
    await after_sales.choose_item(turn, line.line_no, line.quantity)


async def _after_sales_reason(turn: Turn, action: AfterSalesReason) -> None:
    if not _after_sales_slot(turn, "line"):
        stale(turn)
        return
    await after_sales.choose_reason(turn, action.code)


async def _report_listing_reason(turn: Turn, action: ReportListingReason) -> None:
    await listing_reports.report(turn, action.code, action.reason)  # the flow takes them the other way round


HANDLERS: Mapping[type[Action], Handler] = {
    Yes: _answer,
    No: _answer,
    Skip: _answer,
    Expired: _expired,
    Popular: _popular,
    AddSku: _add_sku,
    NewAddress: _new_address,
    PayWith: _pay_with,
    AfterSales: _after_sales,
    AfterSalesLine: _after_sales_line,
    AfterSalesReason: _after_sales_reason,
    ReportListingReason: _report_listing_reason,
}

#: action type -> the flow it runs, called with the turn and the action's fields in field order
FLOWS: Mapping[type[Action], Flow] = {
    # shopping and the cart
    MoreResults: shopping.more,
    ShowProduct: shopping.show,
    Similar: shopping.similar,
    AddProduct: cart.add_code,
    ViewCart: cart.view,
    Increase: partial(cart.change, delta=1),
    Decrease: partial(cart.change, delta=-1),
    Remove: partial(cart.change, delta=None, absolute=0),
    # checkout, payment, orders
    Checkout: checkout.start,
    UseAddress: checkout.use_address,
    Pay: orders.pay_number,
    SandboxPay: orders.sandbox_pay,
    MyOrders: orders.status,
    ShowOrder: orders.show_status,
    Track: orders.track,
    ConfirmReceipt: receipt.confirm,
    OrderHistory: receipt.history,
    CancelOrder: orders.cancel_number,
    ChangeAddress: orders.change_address_number,
    AfterSalesOrder: after_sales.choose_order,
    # people, help and the shopper's account
    Human: support.human,
    Help: support.help_,
    LeaveMessage: support.leave_message,
    Language: account.set_language,
    BindPhone: account.bind_phone,
    ExportData: account.export,
    EraseData: account.erase_request,
    # other people's buttons: the after-sales desk, merchants, listing reports, reviews
    CaseAnswer: after_sales.ask_answer,
    CaseParcel: after_sales.ask_parcel,
    RateCase: after_sales.rate,
    ShipOrder: operator_chat.ship,
    ReportListing: listing_reports.ask,
    ReviewOrder: reviews.ask,
    RateProduct: reviews.rate,
    AskSeller: questions.ask,
}


def _check_tables() -> None:
    """Fail at import, not on a shopper's tap: one entry per action, and flows that take its fields."""
    covered = [*HANDLERS, *FLOWS]
    missing = [a.__name__ for a in ACTIONS if a not in covered]
    twice = [a.__name__ for a in HANDLERS if a in FLOWS]
    if missing or twice or len(set(covered)) != len(ACTIONS):
        raise TypeError(f"button tables: without an entry {missing}, in both tables {twice}")
    for action, flow in FLOWS.items():
        try:
            inspect.signature(flow).bind(None, *(field.name for field in fields_of(action)))
        except TypeError as error:
            raise TypeError(f"{action.__name__}: its flow does not take its fields ({error})") from error


_check_tables()
