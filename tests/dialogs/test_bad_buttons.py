"""Pressed buttons that are malformed, forged or stale: the shopper gets a clear answer, never an error,
and a button naming someone else's order neither shows nor changes it."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.runtime import Runtime
from dialogs.messages import InboundMessage, Reply
from dialogs.payloads import ACTIONS, Action, fields_of
from dialogs.texts import load_texts
from tests.dialogs.conftest import Chat
from tests.dialogs.test_payloads import valid_values as _valid

TEXTS = load_texts()
INVALID = TEXTS.get("en", "payload.invalid")
_users = itertools.count()


async def press(runtime: Runtime, payload: str, user: str | None = None) -> list[Reply]:
    user = user or f"presser-{next(_users)}"
    message = InboundMessage("console", user, user, "", payload, language_hint="en")
    return await runtime.pipeline.handle(message)


def said(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
@pytest.mark.parametrize(
    "payload",
    [
        "sku:D1-RED-M:²",  # used to raise ValueError in int(): a 500
        "addr:²",
        "p:D1\x00",  # a NUL byte used to reach PostgreSQL, which refuses it in text
        "order:SB\x00",
        "sku:D1-RED-M:1\x00",
        "p:" + "D" * 300,
        "frobnicate:D1",
    ],
)
async def test_a_bad_payload_is_answered_and_the_conversation_goes_on(runtime: Runtime, payload: str) -> None:
    user = f"bad-{next(_users)}"
    replies = await press(runtime, payload, user)
    assert said(replies).startswith(INVALID)
    assert {b.payload for r in replies for b in getattr(r, "buttons", ())} == {"help", "popular"}
    card = await press(runtime, "p:D1", user)  # the same shopper's next, valid, tap works as ever
    assert card[0].kind == "product_card" and "Red Floral Dress" in card[0].text


_prefixes = sorted({a.prefix.partition(":")[0] for a in ACTIONS})
#: field values that look right to Python but not to a strict decoder, or that a database refuses
_tricky = st.sampled_from(["²", "٣", "１", "\x00", "D1\x00", "", "0", "-1", "01", "1 ", "D" * 70, "红"])
_with_fields = [a for a in ACTIONS if fields_of(a)]


def _mangled(action: type[Action]) -> st.SearchStrategy[str]:
    """A payload shaped like one the bot sends for ``action``, some arguments swapped for tricky ones."""
    arguments = [st.one_of(_tricky, st.builds(str, _valid(f.kind))) for f in fields_of(action)]
    extra = st.lists(_tricky, max_size=1)
    return st.tuples(*arguments, extra).map(lambda parts: ":".join([action.prefix, *parts[:-1], *parts[-1]]))


_payloads = st.one_of(
    st.text(max_size=80),
    st.tuples(st.sampled_from(_prefixes), st.text(max_size=70)).map(":".join),
    st.sampled_from(_with_fields).flatmap(_mangled),
    st.sampled_from(["yes", "no", "skip", "asline:1", "reason:other", "addr:new", "addr:1", "sku:D1-RED-M"]),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=_payloads)
async def test_any_payload_gets_replies_and_never_an_exception(runtime: Runtime, payload: str) -> None:
    replies = await press(runtime, payload)
    assert replies and all(r.text.strip() for r in replies)


async def test_an_expired_button_says_so(runtime: Runtime) -> None:
    replies = await press(runtime, "expired")
    assert said(replies) == TEXTS.get("en", "payload.expired")


async def test_after_sales_buttons_from_a_finished_step_are_stale(chat_factory: Callable[..., Chat]) -> None:
    chat = chat_factory("stale-user", "en")
    for payload in ("asline:1", "reason:broken"):
        await chat.tap(payload)
        assert chat.text.startswith(TEXTS.get("en", "payload.stale"))
    await chat.tap("yes")
    assert chat.text == TEXTS.get("en", "flow.nothing_pending")


async def test_a_variant_button_for_a_product_taken_off_sale(chat_factory: Callable[..., Chat]) -> None:
    chat = chat_factory("gone-user", "en")
    await chat.tap("sku:D1-GONE-XL:1")
    assert chat.text == TEXTS.get("en", "product.gone")
    await chat.tap("p:NOPE")
    assert chat.text == TEXTS.get("en", "product.gone")


async def test_buttons_naming_another_customers_order_neither_show_nor_change_it(
    runtime: Runtime, chat_factory: Callable[..., Chat]
) -> None:
    owner = chat_factory("order-owner", "en")
    await owner.tap("sku:D2-BLK-S:1")
    await owner.say("checkout")
    await owner.say("Li Lei 13912345678 Shanghai Pudong Century Avenue 100")
    await owner.press("yes")
    [order] = owner.of_type("order")
    number = str(order["data"]["number"])

    other = chat_factory("order-snooper", "en")
    not_found = TEXTS.get("en", "order.not_found", number=number)
    for verb in ("order", "track", "pay", "cancel", "chaddr", "as", "asorder"):
        await other.tap(f"{verb}:{number}")
        assert not_found in other.text, verb
        for secret in ("¥399.00", "Little Black Dress", "L* L**", "139", "Pudong"):
            assert secret not in other.text, (verb, secret)
        assert not other.of_type("order") and not other.of_type("payment")
        await other.tap("yes")  # nothing may be waiting for a confirmation about that order
        assert other.text == TEXTS.get("en", "flow.nothing_pending"), verb
    await other.tap(f"order:{number.lower()}")  # the core reads numbers case-insensitively
    assert "¥399.00" not in other.text

    owner_id = (await runtime.pipeline.state_of("console:order-owner")).customer_id
    assert owner_id is not None
    [saved] = await runtime.container.commerce.customers.addresses(owner_id)
    await other.tap("sku:D1-RED-M:1")
    await other.tap(f"addr:{saved.id}")  # the owner's saved address, by id
    assert other.text == TEXTS.get("en", "error.address_not_found")
    await other.tap("yes")
    assert other.text == TEXTS.get("en", "flow.nothing_pending")  # no order to that address is waiting

    unchanged = await runtime.container.commerce.orders.get(number)
    assert unchanged.status == "pending_payment"
    assert order["data"]["address"].endswith(unchanged.masked_address)  # the address was not changed


async def test_no_variant_buttons_for_a_quantity_the_cart_would_refuse(
    chat_factory: Callable[..., Chat],
) -> None:
    chat = chat_factory("big-quantity-user", "en")
    await chat.tap("p:D1")  # two variants: adding asks which one, with a button per variant
    await chat.say("add 1000 to cart")
    assert chat.text == TEXTS.get("en", "error.invalid_quantity", maximum=999)
    assert not [b for r in chat.last for b in r.get("buttons", [])]
    await chat.say("add 2 to cart")
    assert "sku:D1-RED-M:2" in [b["payload"] for r in chat.last for b in r.get("buttons", [])]


async def test_an_old_yes_from_another_question_does_not_answer_the_one_waiting(
    runtime: Runtime, chat_factory: Callable[..., Chat]
) -> None:
    chat = chat_factory("two-questions", "en")
    await chat.tap("sku:D2-BLK-S:1")
    await chat.say("checkout")
    await chat.say("Li Lei 13912345678 Shanghai Pudong Century Avenue 100")
    assert "yes:checkout" in [b["payload"] for r in chat.last for b in r["buttons"]]
    await chat.press("yes")
    [order] = chat.of_type("order")
    number = str(order["data"]["number"])
    await chat.say("delete my data")
    assert "yes:privacy" in [b["payload"] for r in chat.last for b in r["buttons"]]
    await chat.say("no")
    await chat.tap(f"cancel:{number}")
    assert "yes:cancel_order" in [b["payload"] for r in chat.last for b in r["buttons"]]
    for old in ("yes:privacy", "yes:checkout", "no:privacy"):  # still pressable in the chat history
        await chat.tap(old)
        assert chat.text == TEXTS.get("en", "payload.stale"), old
    commerce = runtime.container.commerce
    assert (await commerce.orders.get(number)).status == "pending_payment"
    await chat.tap("yes:cancel_order")  # the question that is waiting
    assert (await commerce.orders.get(number)).status == "cancelled"
    await chat.tap("yes")  # a bare yes (buttons sent before flows named themselves) answers as ever
    assert chat.text == TEXTS.get("en", "flow.nothing_pending")


async def test_a_product_code_too_long_for_a_button_still_gets_its_replies(
    runtime: Runtime, chat_factory: Callable[..., Chat]
) -> None:
    from commerce_core.catalog.types import ProductDraft, VariantDraft

    code = "LAMP-" + "X" * 57  # the core accepts 64 characters; "similar:" + 62 would not fit 64 bytes
    commerce = runtime.container.commerce
    await commerce.catalog.create_product(
        ProductDraft(
            code,
            "acme",
            "headphones",
            {"zh-Hans": "斑马台灯", "en": "Zebra Lamp"},
            {"zh-Hans": "台灯", "en": "A lamp"},
            [VariantDraft(code[:60] + "-W", {"color": "white"}, 5900, 5)],
        )
    )
    await commerce.catalog.publish(code)
    await runtime.refresh_catalogue()
    chat = chat_factory("long-code-user", "en")
    await chat.say("zebra lamp in white")  # a bare product name opens its card; this searches
    [listing] = chat.of_type("product_list")
    assert listing["data"]["items"][0]["code"] == code
    assert not [b for b in listing["buttons"] if b["payload"].startswith("p:")]  # left out, not a crash
    await chat.say("the first one")
    [card] = chat.of_type("product_card")
    assert [b["payload"] for b in card["buttons"]] == ["cart"]
    await chat.say("add it to my cart")
    assert "Added 1 × Zebra Lamp" in chat.text
