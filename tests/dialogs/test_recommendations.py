"""R5.3-2 (issue 14 rough edges): recommendations say why, per item, from this shopper's own views and
orders (similar to what you viewed, goes with what you bought, popular in its category), in three
scripts."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.channels.console import format_for_terminal
from bot.runtime import Runtime
from commerce_core.orders.types import LineRequest
from dialogs.texts import load_texts
from tests.commerce.factory import ADDRESS
from tests.dialogs.conftest import Chat
from tests.dialogs.reasons import VIEWED, buy_d1, expected

TEXTS = load_texts()
RECOMMEND = {"zh-Hans": "有什么推荐的吗", "zh-Hant": "有什麼推薦的嗎", "en": "what do you recommend"}


def reason(lang: str, key: str, **params: str) -> str:
    return TEXTS.get(lang, f"recommend.{key}", **params)


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant", "en"])
async def test_every_recommendation_says_why_from_this_shoppers_history(
    lang: str, chat_factory: Callable[..., Chat], runtime: Runtime
) -> None:
    commerce = runtime.container.commerce
    user = f"recs-{lang}"
    customer = await commerce.customers.identify("console", user, language=lang)
    await commerce.orders.place(customer.id, ADDRESS, "rec", items=[LineRequest("H1-BLK", 1)])
    chat = chat_factory(user, lang)
    await chat.tap("p:D2")  # opens the card: a view
    assert chat.of_type("product_card"), chat.text
    assert chat.of_type("product_card")[0]["data"]["code"] == "D2"
    await chat.tap("sku:D3-BLU-M:1")
    await chat.tap("cart")  # leave the card: asked on the card, "recommend" means "more like this"
    await chat.say(RECOMMEND[lang])
    [listing] = chat.of_type("product_list")
    items = listing["data"]["items"]
    assert items and all(item["reason"] for item in items), items
    reasons = {item["code"]: item["reason"] for item in items}
    viewed = reason(lang, "reason_viewed", name=(await commerce.catalog.get_product("D2")).title(lang))
    assert any(r == viewed for r in reasons.values()), reasons  # a dress like the one viewed
    assert "D2" not in reasons and "H1" not in reasons  # not what was just viewed or bought
    popular = reason(lang, "reason_popular", category="")
    assert all(
        r == viewed or popular.strip() in r or r.startswith(popular.split("{")[0]) for r in reasons.values()
    )
    other = chat_factory(f"recs-new-{lang}", lang)
    await other.say(RECOMMEND[lang])
    assert viewed not in other.text  # another shopper's views are not this one's reasons


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant", "en"])
async def test_the_console_prints_each_reason_under_its_item(
    lang: str, chat_factory: Callable[..., Chat], runtime: Runtime
) -> None:
    """R5.3-2 in the console: bought D1 and viewed D2, the terminal shows each recommended item with
    its reason on the next line, in the shopper's language; the card opened from the list repeats it."""
    user = f"recs-console-{lang}"
    await buy_d1(runtime.commerce, "console", user, lang)
    chat = chat_factory(user, lang)
    await chat.tap(f"p:{VIEWED}")
    await chat.tap("orders")
    await chat.say(RECOMMEND[lang])
    lines = format_for_terminal(chat.last).split("\n")
    want = await expected(runtime.commerce, lang)
    for title, why in want.values():
        at = next(n for n, line in enumerate(lines) if line[:1].isdigit() and title in line)
        assert lines[at + 1].strip() == why, lines
    await chat.tap("p:D3")
    assert want["D3"][1] in format_for_terminal(chat.last)
