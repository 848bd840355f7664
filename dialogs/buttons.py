"""What each pressed button does: one handler per action type, looked up in a table.

The engine decodes the payload (:mod:`dialogs.payloads`) and calls :func:`press`. A payload that does
not decode gets ``payload.invalid``; one that refers to something that no longer applies (the
after-sales step it belonged to is over, the line is not in the order) gets ``payload.stale``; an order,
product or address that is not the shopper's own is "not found" like one that does not exist. No
handler ever sees a raw string, so nothing unchecked reaches the core or the database.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

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
)

log = logging.getLogger(__name__)
A = TypeVar("A", bound=Action)
Handler = Callable[[Turn, Any], Awaitable[None]]
TypedHandler = Callable[[Turn, A], Awaitable[None]]
_HANDLERS: dict[type[Action], Handler] = {}


def on(action: type[A]) -> Callable[[TypedHandler[A]], TypedHandler[A]]:
    """Register the handler of one action type (typed: the handler receives that action)."""

    def register(handler: TypedHandler[A]) -> TypedHandler[A]:
        _HANDLERS[action] = handler
        return handler

    return register


def _simple(action: type[Action], step: Callable[[Turn], Awaitable[None]]) -> None:
    async def run(turn: Turn, _: Action) -> None:
        await step(turn)

    _HANDLERS[action] = run


async def press(turn: Turn, payload: str) -> None:
    """Do what the pressed button asks, or say why it cannot be done; never raises for a bad payload."""
    try:
        action = decode(payload)
    except InvalidPayload as error:
        log.info("button payload rejected: %s", error)
        invalid(turn)
        return
    await _HANDLERS[type(action)](turn, action)


def invalid(turn: Turn) -> None:
    turn.say("payload.invalid", turn.button("button.help", Help()), turn.button("button.popular", Popular()))


def stale(turn: Turn) -> None:
    turn.say("payload.stale", turn.button("button.help", Help()))


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


_HANDLERS.update({Yes: _answer, No: _answer, Skip: _answer})


for _action, _step in (
    (MoreResults, shopping.more),
    (ViewCart, cart.view),
    (Checkout, checkout.start),
    (MyOrders, orders.status),
    (Human, support.human),
    (Help, support.help_),
    (LeaveMessage, support.leave_message),
    (BindPhone, account.bind_phone),
    (ExportData, account.export),
    (EraseData, account.erase_request),
):
    _simple(_action, _step)


@on(Expired)
async def _expired(turn: Turn, _: Expired) -> None:
    turn.say("payload.expired", turn.button("button.help", Help()), turn.button("button.popular", Popular()))


@on(Popular)
async def _popular(turn: Turn, _: Popular) -> None:
    turn.state.focus_product = None
    await shopping.recommend(turn)


@on(Language)
async def _language(turn: Turn, action: Language) -> None:
    await account.set_language(turn, action.tag)


@on(ShowProduct)
async def _show(turn: Turn, action: ShowProduct) -> None:
    await shopping.show(turn, action.code)


@on(Similar)
async def _similar(turn: Turn, action: Similar) -> None:
    await shopping.similar(turn, action.code)


@on(AddProduct)
async def _add(turn: Turn, action: AddProduct) -> None:
    await cart.add_code(turn, action.code)


@on(AddSku)
async def _add_sku(turn: Turn, action: AddSku) -> None:
    try:
        await cart.add_sku(turn, action.code, action.quantity)
    except NotFound as error:
        if error.code != "sku_not_found":
            raise
        turn.say("product.gone")  # a variant button from before the product was taken off sale


@on(Increase)
async def _increase(turn: Turn, action: Increase) -> None:
    await cart.change(turn, action.sku, 1)


@on(Decrease)
async def _decrease(turn: Turn, action: Decrease) -> None:
    await cart.change(turn, action.sku, -1)


@on(Remove)
async def _remove(turn: Turn, action: Remove) -> None:
    await cart.change(turn, action.sku, None, 0)


@on(UseAddress)
async def _use_address(turn: Turn, action: UseAddress) -> None:
    await checkout.use_address(turn, action.address_id)


@on(NewAddress)
async def _new_address(turn: Turn, _: NewAddress) -> None:
    state = turn.state
    if state.active is None or state.active.flow != "checkout":
        turn.begin("checkout", "address")
    turn.goto("address")
    turn.say("checkout.ask_address")


@on(Pay)
async def _pay(turn: Turn, action: Pay) -> None:
    await orders.pay_number(turn, action.order_number)


@on(PayWith)
async def _pay_with(turn: Turn, action: PayWith) -> None:
    """A provider picked from the web chat's choice; one this channel does not offer is stale."""
    if action.provider not in turn.settings.choices_for(turn.message.channel):
        stale(turn)
        return
    await orders.pay_number(turn, action.order_number, action.provider)


@on(SandboxPay)
async def _sandbox_pay(turn: Turn, action: SandboxPay) -> None:
    await orders.sandbox_pay(turn, action.payment_id)


@on(ShowOrder)
async def _show_order(turn: Turn, action: ShowOrder) -> None:
    await orders.show_status(turn, action.order_number)


@on(Track)
async def _track(turn: Turn, action: Track) -> None:
    await orders.track(turn, action.order_number)


@on(ConfirmReceipt)
async def _confirm_receipt(turn: Turn, action: ConfirmReceipt) -> None:
    await receipt.confirm(turn, action.order_number)


@on(OrderHistory)
async def _history(turn: Turn, action: OrderHistory) -> None:
    await receipt.history(turn, action.order_number)


@on(CancelOrder)
async def _cancel(turn: Turn, action: CancelOrder) -> None:
    await orders.cancel_number(turn, action.order_number)


@on(ChangeAddress)
async def _change_address(turn: Turn, action: ChangeAddress) -> None:
    await orders.change_address_number(turn, action.order_number)


@on(AfterSales)
async def _after_sales(turn: Turn, action: AfterSales) -> None:
    await after_sales.begin(turn, CaseKind.RETURN, action.order_number)
    if _after_sales_slot(turn, "kind") and not _after_sales_slot(turn, "order"):
        turn.finish()  # not the shopper's order (or no longer there): no return is waiting on it


@on(AfterSalesOrder)
async def _after_sales_order(turn: Turn, action: AfterSalesOrder) -> None:
    await after_sales.choose_order(turn, action.order_number)


def _after_sales_slot(turn: Turn, slot: str) -> bool:
    """Whether an after-sales conversation is running and has got as far as ``slot``."""
    frame = turn.state.active
    return frame is not None and frame.flow == "after_sales" and slot in frame.slots


@on(AfterSalesLine)
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


@on(AfterSalesReason)
async def _after_sales_reason(turn: Turn, action: AfterSalesReason) -> None:
    if not _after_sales_slot(turn, "line"):
        stale(turn)
        return
    await after_sales.choose_reason(turn, action.code)


@on(ShipOrder)
async def _ship_order(turn: Turn, action: ShipOrder) -> None:
    await operator_chat.ship(turn, action.order_number)


@on(CaseAnswer)
async def _case_answer(turn: Turn, action: CaseAnswer) -> None:
    await after_sales.ask_answer(turn, action.case_number)


@on(CaseParcel)
async def _case_parcel(turn: Turn, action: CaseParcel) -> None:
    await after_sales.ask_parcel(turn, action.case_number)


@on(RateCase)
async def _rate_case(turn: Turn, action: RateCase) -> None:
    await after_sales.rate(turn, action.case_number, action.rating)


@on(ReportListing)
async def _report_listing(turn: Turn, action: ReportListing) -> None:
    await listing_reports.ask(turn, action.code)


@on(ReportListingReason)
async def _report_listing_reason(turn: Turn, action: ReportListingReason) -> None:
    await listing_reports.report(turn, action.code, action.reason)


@on(ReviewOrder)
async def _review_order(turn: Turn, action: ReviewOrder) -> None:
    await reviews.ask(turn, action.order_number)


@on(RateProduct)
async def _rate_product(turn: Turn, action: RateProduct) -> None:
    await reviews.rate(turn, action.code, action.rating)


@on(AskSeller)
async def _ask_seller(turn: Turn, action: AskSeller) -> None:
    await questions.ask(turn, action.question_id)


_missing = [a.__name__ for a in set(ACTIONS) - _HANDLERS.keys()]
if _missing:
    raise TypeError(f"actions without a handler: {_missing}")
