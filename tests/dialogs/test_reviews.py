"""R5.3-1 reviews: after delivery the shopper is asked to rate the items (1-5 and a comment); the card
shows the average and the latest comments; a comment the listing checks flag (an absolute claim, a
phone number) waits for staff and shows nowhere until approved; only what the shopper received can be
reviewed (a forged button reviews nothing); ratings outside 1-5 are refused. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.runtime import Runtime
from commerce_core.api import Commerce, NotAllowed
from commerce_core.clock import FakeClock
from commerce_core.orders.types import LineRequest
from dialogs.texts import load_texts
from tests.commerce.factory import ADDRESS
from tests.conftest import fresh_postgres
from tests.dialogs.conftest import Chat
from tests.runtime_support import sqlite_copy

TEXTS = load_texts()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return fresh_postgres(request)
    return sqlite_copy(request, tmp_path)


async def delivered_order(commerce: Commerce, clock: FakeClock, user: str, lang: str, sku: str) -> str:
    """A paid, shipped and delivered order of ``sku`` for the console user ``user``."""
    customer = await commerce.customers.identify("console", user, language=lang)
    order = await commerce.orders.place(customer.id, ADDRESS, f"rv-{user}", items=[LineRequest(sku, 1)])
    await commerce.payments.sandbox_pay((await commerce.payments.start(order.number)).payment_id)
    await commerce.shipments.ship(order.number)
    clock.advance(days=9)
    await commerce.shipments.refresh_open()
    assert (await commerce.orders.get(order.number)).status == "delivered"
    return order.number


async def pushed_button(chat: Chat, prefix: str) -> str:
    """The payload of a pushed notification's button starting with ``prefix`` (waits generously)."""
    for _ in range(60):
        await chat.say("hi" if chat.session.language == "en" else "你好")
        for reply in chat.last:
            for button in reply.get("buttons", []) if reply.get("pushed") else []:
                if button["payload"].startswith(prefix):
                    return str(button["payload"])
        await asyncio.sleep(0.5)
    raise AssertionError(f"no pushed {prefix!r} button")


def card_text(chat: Chat) -> str:
    [card] = chat.of_type("product_card")
    return str(card["text"])


async def test_delivered_order_asks_for_a_rating_and_the_card_shows_it(
    chat_factory: Callable[..., Chat], runtime: Runtime, clock: FakeClock
) -> None:
    commerce = runtime.container.commerce
    number = await delivered_order(commerce, clock, "rv-en", "en", "D3-BLU-M")
    chat = chat_factory("rv-en", "en")
    payload = await pushed_button(chat, "rvw:")  # the delivery message offers "Rate the items"
    assert payload == f"rvw:{number}"
    await chat.tap(payload)
    assert TEXTS.get("en", "reviews.ask_intro", number=number) in chat.text
    stars = [b["payload"] for r in chat.last for b in r.get("buttons", [])]
    assert stars == [f"rvs:D3:{n}" for n in range(1, 6)]
    await chat.tap("rvs:D3:4")
    assert "★★★★☆" in chat.text
    await chat.say("Fits well, the blue is lovely")
    assert TEXTS.get("en", "reviews.thanks") in chat.text
    other = chat_factory("rv-browser", "en")
    await other.tap("p:D3")
    text = card_text(other)
    assert TEXTS.get("en", "reviews.card_average", average="4.0", count=1) in text
    assert "★★★★☆ “Fits well, the blue is lovely”" in text
    # a second rating of the same product by the same shopper does not count twice
    await chat.tap("rvs:D3:1")
    assert TEXTS.get("en", "reviews.refused.already_reviewed") in chat.text
    await other.tap("p:D3")
    assert TEXTS.get("en", "reviews.card_average", average="4.0", count=1) in card_text(other)
    # the order card offers "Rate the items" too; everything in it is rated now
    await chat.tap(f"order:{number}")
    assert any(b["payload"] == f"rvw:{number}" for r in chat.last for b in r.get("buttons", []))
    await chat.tap(f"rvw:{number}")
    assert TEXTS.get("en", "reviews.all_done") in chat.text
    # their words are theirs: exported, and gone from the card when they erase their data
    shopper = await commerce.customers.identify("console", "rv-en")
    exported = await commerce.privacy.export(shopper.id)
    assert [r["comment"] for r in exported["product_reviews"]] == ["Fits well, the blue is lovely"]
    await commerce.privacy.erase(shopper.id, actor="customer")
    await other.tap("p:D3")
    assert "Fits well" not in card_text(other)
    assert TEXTS.get("en", "reviews.card_average", average="4.0", count=1) in card_text(other)


@pytest.mark.parametrize(
    ("lang", "comment", "finding"),
    [
        ("zh-Hans", "全网最好的衣服", "advertising_terms"),
        ("zh-Hant", "有問題打給我 13812345678", "contact_details"),
    ],
)
async def test_a_flagged_comment_waits_for_staff(
    lang: str,
    comment: str,
    finding: str,
    chat_factory: Callable[..., Chat],
    runtime: Runtime,
    clock: FakeClock,
) -> None:
    commerce = runtime.container.commerce
    user = f"rv-held-{lang}"
    await delivered_order(commerce, clock, user, lang, "D3-BLU-M")
    chat = chat_factory(user, lang)
    await chat.tap("rvs:D3:5")
    await chat.say(comment)
    assert TEXTS.get(lang, "reviews.held") in chat.text
    browser = chat_factory(f"rv-browser-{lang}", lang)
    await browser.tap("p:D3")
    assert comment not in card_text(browser) and "★ " not in card_text(browser)  # neither comment nor stars
    [held] = await commerce.product_reviews.held()
    assert held.comment == comment and [f["code"] for f in held.findings] == [finding]
    await commerce.product_reviews.decide(held.id, approve=True, actor="operator:test")
    await browser.tap("p:D3")
    assert comment in card_text(browser)
    assert TEXTS.get(lang, "reviews.card_average", average="5.0", count=1) in card_text(browser)


async def test_a_product_not_received_cannot_be_reviewed(
    chat_factory: Callable[..., Chat], runtime: Runtime, clock: FakeClock
) -> None:
    commerce = runtime.container.commerce
    number = await delivered_order(commerce, clock, "rv-owner", "en", "D3-BLU-M")
    # someone who bought nothing forges the stars button, and taps the owner's "Rate the items"
    forger = chat_factory("rv-forger", "en")
    await forger.tap("rvs:D3:5")
    assert TEXTS.get("en", "reviews.refused.not_received") in forger.text
    await forger.say("全网最好 5 stars")
    await forger.tap(f"rvw:{number}")
    assert TEXTS.get("en", "order.not_found", number=number) in forger.text
    # the buyer of D3 forges a button for D1, which they did not buy
    owner = chat_factory("rv-owner", "en")
    await owner.tap("rvs:D1:5")
    assert TEXTS.get("en", "reviews.refused.not_received") in owner.text
    # an order paid but not delivered yet is not reviewable either
    buyer = await commerce.customers.identify("console", "rv-waiting", language="en")
    waiting = await commerce.orders.place(buyer.id, ADDRESS, "rv-w", items=[LineRequest("D1-RED-M", 1)])
    await commerce.payments.sandbox_pay((await commerce.payments.start(waiting.number)).payment_id)
    patient = chat_factory("rv-waiting", "en")
    await patient.tap(f"rvw:{waiting.number}")
    assert TEXTS.get("en", "reviews.not_received") in patient.text
    await patient.tap("rvs:D1:5")
    assert TEXTS.get("en", "reviews.refused.not_received") in patient.text
    with pytest.raises(NotAllowed):
        await commerce.product_reviews.submit(buyer.id, "D1", 5, "nice")
    for code in ("D1", "D3"):
        assert (await commerce.product_reviews.summary(code)).count == 0


async def test_rating_bounds(chat_factory: Callable[..., Chat], runtime: Runtime, clock: FakeClock) -> None:
    commerce = runtime.container.commerce
    await delivered_order(commerce, clock, "rv-bounds", "zh-Hans", "D3-BLU-M")
    chat = chat_factory("rv-bounds", "zh-Hans")
    for forged in ("rvs:D3:0", "rvs:D3:6", "rvs:D3:-1", "rvs:D3:4.5", "rvs:D3:"):
        await chat.tap(forged)
        assert TEXTS.get("zh-Hans", "payload.invalid") in chat.text, forged
    customer = await commerce.customers.identify("console", "rv-bounds")
    for rating in (0, 6):
        with pytest.raises(Exception, match="1 to 5"):
            await commerce.product_reviews.submit(customer.id, "D3", rating)
    assert (await commerce.product_reviews.summary("D3")).count == 0
    await chat.tap("rvs:D3:1")
    await chat.tap("skip:reviews")  # a rating without a comment counts
    assert TEXTS.get("zh-Hans", "reviews.thanks") in chat.text
    summary = await commerce.product_reviews.summary("D3")
    assert (summary.count, summary.average, summary.recent) == (1, 1.0, [])


async def test_accounts_joined_by_phone_keep_one_review_per_product(
    runtime: Runtime, clock: FakeClock
) -> None:
    """Linking two channel accounts of one person (same phone) keeps the target's review of a product
    they both reviewed and moves the others over, so the average still counts a person once."""
    from commerce_core.linking import merge_customers

    commerce = runtime.container.commerce
    await delivered_order(commerce, clock, "rv-wechat", "zh-Hans", "D3-BLU-M")
    await delivered_order(commerce, clock, "rv-telegram", "zh-Hans", "D3-BLU-M")
    target = await commerce.customers.identify("console", "rv-wechat")
    source = await commerce.customers.identify("console", "rv-telegram")
    await commerce.product_reviews.submit(target.id, "D3", 5, "很合身")
    await commerce.product_reviews.submit(source.id, "D3", 1, "颜色不对")
    await merge_customers(commerce.units, source.id, target.id, actor="test")
    summary = await commerce.product_reviews.summary("D3")
    assert (summary.count, summary.average, [r.comment for r in summary.recent]) == (1, 5.0, ["很合身"])


@pytest.mark.parametrize(
    ("comment", "codes"),
    [
        ("质量不错，穿着舒服", []),
        ("第一次买，这是第二件", []),  # 第一次 is "the first time", not "number one" (test_review_checks)
        ("最近买的，尺码 M，170cm 65kg 刚好，¥199 值", []),
        ("Comfy, true to size, arrived in 3 days", []),
        ("全網最好", ["advertising_terms"]),
        ("the best dress ever", []),  # a shopper's opinion, not an advertisement (test_review_checks)
        ("the best in the world, cures everything", ["advertising_terms"]),
        ("问题找我 138-1234-5678", ["contact_details"]),
        ("加微信 shop_abc123 更便宜", ["contact_details"]),
        ("see www.cheap-dress.top", ["contact_details"]),
        ("卖家是骗子", ["abuse"]),
    ],
)
def test_comment_checks_reuse_the_listing_checks(comment: str, codes: list[str]) -> None:
    from commerce_core.catalog.checks import check_comment

    assert [f.code for f in check_comment(comment)] == codes
