"""Checkout: delivery address (saved, typed, or shared location), a summary, explicit confirmation,
the order, and the payment request. The confirmation's idempotency key makes a double tap one order."""

from __future__ import annotations

import dataclasses
import secrets

from commerce_core.api import AddressView, DomainError, InvalidInput, Money, OrderView
from dialogs import forms
from dialogs.context import Turn
from dialogs.flows.base import Flow, StepSpec
from dialogs.flows.common import cart_summary, order_summary
from dialogs.messages import Button, PaymentRequest
from dialogs.payloads import NewAddress, No, PayWith, Popular, SandboxPay, UseAddress, ViewCart, Yes

AFFIRM = ("affirm",)
DENY = ("deny",)


async def start(turn: Turn) -> None:
    cart = await turn.commerce.cart.view(turn.customer_id)
    if cart.is_empty:
        turn.say("cart.empty", turn.button("button.popular", Popular()))
        return
    if not cart.can_checkout:
        turn.send(cart_summary(turn, cart))
        turn.say("checkout.fix_cart")
        return
    turn.begin("checkout", "address", attempt=secrets.token_hex(6))
    turn.note("checkout_started")
    await ask_address(turn)


async def ask_address(turn: Turn) -> None:
    saved = await turn.commerce.customers.addresses(turn.customer_id)
    if saved:
        buttons = [Button.of(view.address.masked_line()[:40], UseAddress(view.id)) for view in saved[:3]]
        buttons.append(turn.button("button.new_address", NewAddress()))
        turn.say("checkout.pick_address", *buttons)
    else:
        turn.say("checkout.ask_address")


async def on_address(turn: Turn) -> None:
    """A typed address, a shared location or contact, or (via payload) a saved one: in one message or
    several, any order; only the missing parts are asked for again."""
    got = forms.collect(turn, _from_attachments(turn))
    if turn.nlu.text.strip():
        got = forms.collect(turn, forms.read_parts(turn.nlu.text)) or got
    address = forms.completed(turn)
    if address is None:
        forms.ask_missing(turn, got_something=got)
        return
    try:
        view = await turn.commerce.customers.add_address(turn.customer_id, address)
    except InvalidInput as error:
        if error.code == "invalid_phone":
            turn.slots.pop("addr_phone", None)
        turn.say(
            f"error.{error.code}"
            if error.code in ("invalid_phone", "too_long", "required")
            else "checkout.address_unclear"
        )
        return
    forms.forget(turn)
    await use_address(turn, view.id, view)


def _from_attachments(turn: Turn) -> forms.AddressParts:
    """A Telegram contact card gives the name and phone; a shared location gives the address line."""
    name = phone = line = None
    for attachment in turn.message.attachments:
        if attachment.kind == "location" and attachment.label:
            line = attachment.label
        if attachment.kind == "contact" and attachment.phone:
            phone, name = attachment.phone, attachment.name
    return forms.AddressParts(name, phone, line)


async def use_address(turn: Turn, address_id: int, known: AddressView | None = None) -> None:
    """Summarise the order to this address (``known``: the address just saved, not read again)."""
    cart = await turn.commerce.cart.view(turn.customer_id)
    if cart.is_empty or cart.subtotal is None:
        turn.finish()
        turn.say("cart.empty")
        return
    address = known or await turn.commerce.customers.address(turn.customer_id, address_id)
    fee = turn.commerce.orders.policy.fee_for(cart.subtotal)
    total = cart.subtotal.amount + fee
    if turn.state.active is None or turn.state.active.flow != "checkout":
        turn.begin("checkout", "confirm", attempt=secrets.token_hex(6))
    turn.goto("confirm", address_id=address_id, total=total)
    # the lines only: +/- buttons here would sit before "Place order", and "1" would add a unit
    turn.send(dataclasses.replace(cart_summary(turn, cart), buttons=()))
    currency = cart.subtotal.currency
    fee_text = (
        turn.t("order.shipping_fee", amount=Money(fee, currency).format())
        if fee
        else turn.t("order.free_shipping")
    )
    turn.say(
        "checkout.confirm",
        turn.button("button.confirm_order", Yes(CHECKOUT.name)),
        turn.button("button.cancel", No(CHECKOUT.name)),
        address=address.address.masked_line(),
        fee=fee_text,
        total=Money(total, currency).format(),
    )


async def on_confirm(turn: Turn) -> None:
    if turn.nlu.intent in DENY:  # the yes and no buttons arrive as "affirm" and "deny"
        turn.finish()
        turn.say("checkout.cancelled", turn.button("button.view_cart", ViewCart()))
        return
    if turn.nlu.intent not in AFFIRM:
        turn.say(
            "checkout.confirm_again",
            turn.button("button.confirm_order", Yes(CHECKOUT.name)),
            turn.button("button.cancel", No(CHECKOUT.name)),
        )
        return
    key = f"{turn.message.conversation_key}:{turn.slots['attempt']}"
    try:
        # the saved address by id: placing copies it into the order, no read of it first
        order = await turn.commerce.orders.place(
            turn.customer_id, int(turn.slots["address_id"]), key, expected_total=int(turn.slots["total"])
        )
    except DomainError as error:
        if error.code != "address_not_found":  # a gone address left the flow open, as before
            turn.finish()
        raise error
    turn.finish()
    turn.state.last_order = order.number
    turn.note("order_placed", amount=order.total.amount)
    turn.send(order_summary(turn, order, title_key="order.placed"))
    await payment_request(turn, order.number, placed=order)


async def payment_request(
    turn: Turn, order_number: str, provider: str | None = None, *, placed: OrderView | None = None
) -> None:
    """Ask for the money: with ``provider`` (a picked one) or the channel's own; where the channel
    offers a choice (the web chat with Alipay and WeChat Pay), first a button per provider.
    ``placed``: the order placing just answered with (the payment then starts without reading it)."""
    choices = turn.settings.choices_for(turn.message.channel)
    if provider is None and choices:
        offer_providers(turn, order_number, choices)
        return
    request = await turn.commerce.payments.start(
        order_number,
        customer_id=turn.customer_id,
        provider=provider or turn.settings.provider_for(turn.message.channel),
        placed=placed,
    )
    buttons: list[Button] = []
    if turn.settings.sandbox_payments and request.provider == "sandbox":
        buttons.append(turn.button("button.sandbox_pay", SandboxPay(request.payment_id)))
    turn.send(
        PaymentRequest(
            order_number,
            request.payment_id,
            request.provider,
            request.amount.amount,
            request.amount.currency,
            request.amount.format(),
            request.pay_url,
            turn.t(
                "pay.request",
                amount=request.amount.format(),
                number=order_number,
                minutes=int(turn.commerce.orders.policy.payment_window.total_seconds() // 60),
            ),
            tuple(buttons),
        )
    )


def offer_providers(turn: Turn, order_number: str, choices: tuple[str, ...]) -> None:
    """One button per provider, in the shopper's language; no payment exists until one is picked."""
    turn.say(
        "webpay.choose",
        *(turn.button(f"webpay.{name}", PayWith(name, order_number)) for name in choices),
        number=order_number,
    )


async def resume(turn: Turn) -> None:
    step = turn.state.active.step if turn.state.active else None
    if step == "address":
        await ask_address(turn)
    elif step == "confirm":
        turn.say(
            "checkout.confirm_again",
            turn.button("button.confirm_order", Yes(CHECKOUT.name)),
            turn.button("button.cancel", No(CHECKOUT.name)),
        )


CHECKOUT = Flow(
    "checkout",
    start,
    {
        "address": StepSpec(on_address, expects="address"),
        "confirm": StepSpec(on_confirm, expects="affirm"),
    },
    resume=resume,
    own_intents=frozenset({"checkout", "pay", "change_address"}),
)
