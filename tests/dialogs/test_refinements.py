"""R5.2-3 (issue 14): refinements of the last results and of the product in focus, in three scripts.

Each test searches the demo catalogue, refines what it got in the shopper's own words, and checks the
products shown: cheaper/dearer, another colour, "not red", under a price, sorted by price or sales, next
and previous page, "the second one" bounded by what was shown, and a variant question answered yes or
no from the product's variants.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.runtime import Runtime
from commerce_core.api import ProductView
from tests.dialogs.conftest import Chat

LANGS = ["zh-Hans", "zh-Hant", "en"]
DRESSES = {"zh-Hans": "连衣裙", "zh-Hant": "連衣裙", "en": "dresses"}


async def shown(chat: Chat, runtime: Runtime) -> list[ProductView]:
    lists = chat.of_type("product_list")
    assert lists, chat.text
    codes = [item["code"] for item in lists[0]["data"]["items"]]
    return [await runtime.container.commerce.catalog.get_product(code) for code in codes]


async def refine(
    chat: Chat, runtime: Runtime, first: str, then: str
) -> tuple[list[ProductView], list[ProductView]]:
    await chat.say(first)
    before = await shown(chat, runtime)
    await chat.say(then)
    return before, await shown(chat, runtime)


CHEAPER = {"zh-Hans": "有便宜点的吗", "zh-Hant": "有便宜一點的嗎", "en": "cheaper ones?"}
DEARER = {"zh-Hans": "有贵一点的吗", "zh-Hant": "有貴一點的嗎", "en": "anything more expensive?"}


@pytest.mark.parametrize("lang", LANGS)
async def test_cheaper_and_dearer(lang: str, demo_chat: Callable[..., Chat], demo_runtime: Runtime) -> None:
    chat = demo_chat(lang)
    before, after = await refine(chat, demo_runtime, DRESSES[lang], CHEAPER[lang])
    assert after and max(p.min_price.amount for p in after) < min(p.min_price.amount for p in before)
    assert all(p.category_code == "dresses" for p in after), [p.code for p in after]
    chat = demo_chat(lang)
    before, after = await refine(chat, demo_runtime, DRESSES[lang], DEARER[lang])
    assert after and min(p.max_price.amount for p in after) > max(p.max_price.amount for p in before)


BLUE = {"zh-Hans": "换成蓝色的", "zh-Hant": "換成藍色的", "en": "blue ones instead"}
NOT_RED_BLUE = {
    "zh-Hans": "不要红色了，换成蓝色的",
    "zh-Hant": "不要紅色了，換成藍色的",
    "en": "not red, blue ones",
}
NOT_RED = {"zh-Hans": "不要红色的", "zh-Hant": "不要紅色的", "en": "not red"}


@pytest.mark.parametrize("lang", LANGS)
async def test_another_colour_and_not_red(
    lang: str, demo_chat: Callable[..., Chat], demo_runtime: Runtime
) -> None:
    red = {"zh-Hans": "红色连衣裙", "zh-Hant": "紅色連衣裙", "en": "red dresses"}[lang]
    for change in (BLUE[lang], NOT_RED_BLUE[lang]):
        chat = demo_chat(lang)
        before, after = await refine(chat, demo_runtime, red, change)
        assert all("red" in p.option_values("color") for p in before)
        assert after and all("blue" in p.option_values("color") for p in after), (change, chat.text)
        assert all(p.category_code == "dresses" for p in after)
    chat = demo_chat(lang)
    _, after = await refine(chat, demo_runtime, DRESSES[lang], NOT_RED[lang])
    assert after and all(set(p.option_values("color")) - {"red"} for p in after), chat.text


UNDER = {"zh-Hans": "200元以内的", "zh-Hant": "200元以內的", "en": "under 200"}
BY_PRICE = {"zh-Hans": "按价格排序", "zh-Hant": "按價格排序", "en": "sort by price"}
BY_SALES = {"zh-Hans": "按销量排序", "zh-Hant": "按銷量排序", "en": "sort by sales"}


@pytest.mark.parametrize("lang", LANGS)
async def test_price_limit_and_sorting(
    lang: str, demo_chat: Callable[..., Chat], demo_runtime: Runtime
) -> None:
    chat = demo_chat(lang)
    _, under = await refine(chat, demo_runtime, DRESSES[lang], UNDER[lang])
    assert under and all(p.min_price.amount <= 20000 for p in under), chat.text
    assert all(p.category_code == "dresses" for p in under)
    chat = demo_chat(lang)
    _, by_price = await refine(chat, demo_runtime, DRESSES[lang], BY_PRICE[lang])
    prices = [p.min_price.amount for p in by_price]
    assert len(prices) > 1 and prices == sorted(prices), prices
    chat = demo_chat(lang)
    _, by_sales = await refine(chat, demo_runtime, DRESSES[lang], BY_SALES[lang])
    sales = [p.sales for p in by_sales]
    assert len(sales) > 1 and sales == sorted(sales, reverse=True), sales


NEXT = {"zh-Hans": "下一页", "zh-Hant": "下一頁", "en": "next page"}
PREVIOUS = {"zh-Hans": "上一页", "zh-Hant": "上一頁", "en": "previous page"}


@pytest.mark.parametrize("lang", LANGS)
async def test_next_and_previous_page(
    lang: str, demo_chat: Callable[..., Chat], demo_runtime: Runtime
) -> None:
    chat = demo_chat(lang)
    first, second = await refine(chat, demo_runtime, DRESSES[lang], NEXT[lang])
    assert chat.of_type("product_list")[0]["data"]["page"] == 2
    assert not {p.code for p in first} & {p.code for p in second}
    await chat.say(PREVIOUS[lang])
    assert [p.code for p in await shown(chat, demo_runtime)] == [p.code for p in first]


SECOND = {"zh-Hans": "第二个", "zh-Hant": "第二個", "en": "the second one"}
ONE_DRESS = {"zh-Hans": "100元以内的裙子", "zh-Hant": "100元以內的裙子", "en": "dress under 100"}


@pytest.mark.parametrize("lang", LANGS)
async def test_the_second_one_is_bounded_by_what_was_shown(
    lang: str, chat_factory: Callable[..., Chat]
) -> None:
    chat = chat_factory(f"second-{lang}", lang)
    await chat.say(ONE_DRESS[lang])
    [listing] = chat.of_type("product_list")
    assert [i["code"] for i in listing["data"]["items"]] == ["D3"]
    await chat.say(SECOND[lang])
    assert not chat.of_type("product_card"), chat.text  # item 1 is not opened for "the second"
    assert "1" in chat.text
    await chat.say("1")
    [card] = chat.of_type("product_card")
    assert card["data"]["code"] == "D3"


CARD = {"zh-Hans": "碎花雪纺连衣裙", "zh-Hant": "碎花雪紡連衣裙", "en": "Floral Chiffon Dress"}
RED_M = {"zh-Hans": "这个有红色M码吗", "zh-Hant": "這個有紅色M碼嗎", "en": "do you have it in red size M"}
GREEN = {"zh-Hans": "有绿色的吗", "zh-Hant": "有綠色的嗎", "en": "do you have it in green"}
BLUE_M = {"zh-Hans": "有蓝色M码吗", "zh-Hant": "有藍色M碼嗎", "en": "is it available in blue, size M?"}


@pytest.mark.parametrize("lang", LANGS)
async def test_a_variant_question_answers_yes_or_no(
    lang: str, demo_chat: Callable[..., Chat], demo_runtime: Runtime
) -> None:
    chat = demo_chat(lang)
    await chat.say(CARD[lang])
    [card] = chat.of_type("product_card")
    assert card["data"]["code"] == "P0001"  # red M exists but is sold out; there is no green
    await chat.say(RED_M[lang])
    assert not chat.of_type("product_card")
    assert not [b for b in chat.last[0]["buttons"] if b["payload"].startswith("sku:")]
    sold_out = {"zh-Hans": "卖完", "zh-Hant": "賣完", "en": "sold out"}[lang]
    assert sold_out in chat.text, chat.text
    await chat.say(GREEN[lang])
    no = {"zh-Hans": "没有", "zh-Hant": "沒有", "en": "doesn't come in"}[lang]
    blue = {"zh-Hans": "蓝色", "zh-Hant": "藍色", "en": "blue"}[lang]
    assert no in chat.text and blue in chat.text, chat.text  # says no, and offers what exists
    await chat.say(BLUE_M[lang])
    assert chat.text.startswith({"zh-Hans": "有的", "zh-Hant": "有的", "en": "Yes"}[lang]), chat.text
    await chat.press("sku:P0001-BLUE-M")
    commerce = demo_runtime.container.commerce
    cart = await commerce.cart.view((await commerce.customers.identify("console", chat.session.user_id)).id)
    assert [line.sku_code for line in cart.lines] == ["P0001-BLUE-M"]
