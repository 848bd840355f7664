"""R5.2-3 (issue 14): refinements of the last results and of the product in focus, in three scripts.

Each test searches the demo catalogue, refines what it got in the shopper's own words, and checks the
products shown: cheaper/dearer, another colour or size, "not red", under or over a price, sorted by price
or sales, next and previous page, "the second one" bounded by what was shown, and a variant question
answered yes or no from the product's variants.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

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


@dataclass
class Refined:
    """One search and one refinement by a new shopper: the products shown before and after."""

    chat: Chat
    before: list[ProductView]
    after: list[ProductView]


Refine = Callable[..., Awaitable[Refined]]


@pytest.fixture
def refine(lang: str, demo_chat: Callable[..., Chat], demo_runtime: Runtime) -> Refine:
    """The shape every refinement test shares: a new shopper in ``lang`` searches ``first`` (the
    dresses unless told), then says ``then``; both are per-language texts."""

    async def run(then: Mapping[str, str], first: Mapping[str, str] = DRESSES) -> Refined:
        chat = demo_chat(lang)
        await chat.say(first[lang])
        before = await shown(chat, demo_runtime)
        await chat.say(then[lang])
        return Refined(chat, before, await shown(chat, demo_runtime))

    return run


CHEAPER = {"zh-Hans": "有便宜点的吗", "zh-Hant": "有便宜一點的嗎", "en": "cheaper ones?"}
DEARER = {"zh-Hans": "有贵一点的吗", "zh-Hant": "有貴一點的嗎", "en": "anything more expensive?"}


@pytest.mark.parametrize("lang", LANGS)
async def test_cheaper_and_dearer(lang: str, refine: Refine) -> None:
    cheaper = await refine(CHEAPER)
    assert cheaper.after
    assert max(p.min_price.amount for p in cheaper.after) < min(p.min_price.amount for p in cheaper.before)
    assert all(p.category_code == "dresses" for p in cheaper.after), [p.code for p in cheaper.after]
    dearer = await refine(DEARER)
    assert dearer.after
    assert min(p.max_price.amount for p in dearer.after) > max(p.max_price.amount for p in dearer.before)


BLUE = {"zh-Hans": "换成蓝色的", "zh-Hant": "換成藍色的", "en": "blue ones instead"}
NOT_RED_BLUE = {
    "zh-Hans": "不要红色了，换成蓝色的",
    "zh-Hant": "不要紅色了，換成藍色的",
    "en": "not red, blue ones",
}
NOT_RED = {"zh-Hans": "不要红色的", "zh-Hant": "不要紅色的", "en": "not red"}
RED_DRESSES = {"zh-Hans": "红色连衣裙", "zh-Hant": "紅色連衣裙", "en": "red dresses"}


@pytest.mark.parametrize("lang", LANGS)
async def test_another_colour_and_not_red(lang: str, refine: Refine) -> None:
    for change in (BLUE, NOT_RED_BLUE):
        blue = await refine(change, first=RED_DRESSES)
        assert all("red" in p.option_values("color") for p in blue.before)
        assert blue.after and all("blue" in p.option_values("color") for p in blue.after), blue.chat.text
        assert all(p.category_code == "dresses" for p in blue.after)
    not_red = await refine(NOT_RED)
    assert not_red.after and all(set(p.option_values("color")) - {"red"} for p in not_red.after), (
        not_red.chat.text
    )


SIZE_XL = {"zh-Hans": "换成XL码的", "zh-Hant": "換成XL碼的", "en": "in XL instead"}
SIZE_L = {"zh-Hans": "要L码的", "zh-Hant": "要L碼的", "en": "size L ones"}


@pytest.mark.parametrize("lang", LANGS)
async def test_another_size(lang: str, refine: Refine) -> None:
    """ "换成XL码的" on a list changes the list (it is not an exchange of an order), "要L码的" narrows it
    (it is not "add which product?")."""
    for change, size in ((SIZE_XL, "XL"), (SIZE_L, "L")):
        sized = await refine(change)
        assert sized.after and all(size in p.option_values("size") for p in sized.after), sized.chat.text
        assert all(p.category_code == "dresses" for p in sized.after)
    assert any("XL" not in p.option_values("size") for p in sized.before)  # the list did change


UNDER = {"zh-Hans": "200元以内的", "zh-Hant": "200元以內的", "en": "under 200"}
OVER = {"zh-Hans": "300元以上的", "zh-Hant": "300元以上的", "en": "over 300"}
BY_PRICE = {"zh-Hans": "按价格排序", "zh-Hant": "按價格排序", "en": "sort by price"}
BY_SALES = {"zh-Hans": "按销量排序", "zh-Hant": "按銷量排序", "en": "sort by sales"}


@pytest.mark.parametrize("lang", LANGS)
async def test_price_limit_and_sorting(lang: str, refine: Refine) -> None:
    under = await refine(UNDER)
    assert under.after and all(p.min_price.amount <= 20000 for p in under.after), under.chat.text
    assert all(p.category_code == "dresses" for p in under.after)
    over = await refine(OVER)
    assert over.after and all(p.max_price.amount >= 30000 for p in over.after), over.chat.text
    assert all(p.category_code == "dresses" for p in over.after)
    prices = [p.min_price.amount for p in (await refine(BY_PRICE)).after]
    assert len(prices) > 1 and prices == sorted(prices), prices
    sales = [p.sales for p in (await refine(BY_SALES)).after]
    assert len(sales) > 1 and sales == sorted(sales, reverse=True), sales


NEXT = {"zh-Hans": "下一页", "zh-Hant": "下一頁", "en": "next page"}
PREVIOUS = {"zh-Hans": "上一页", "zh-Hant": "上一頁", "en": "previous page"}


@pytest.mark.parametrize("lang", LANGS)
async def test_next_and_previous_page(lang: str, refine: Refine, demo_runtime: Runtime) -> None:
    paged = await refine(NEXT)
    assert paged.chat.of_type("product_list")[0]["data"]["page"] == 2
    assert not {p.code for p in paged.before} & {p.code for p in paged.after}
    await paged.chat.say(PREVIOUS[lang])
    assert [p.code for p in await shown(paged.chat, demo_runtime)] == [p.code for p in paged.before]


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


SWAP_BLUE_M = {"zh-Hans": "换成蓝色M码的", "zh-Hant": "換成藍色M碼的", "en": "blue in M instead"}


@pytest.mark.parametrize("lang", LANGS)
async def test_changing_the_card_to_another_variant_is_not_an_exchange(
    lang: str, demo_chat: Callable[..., Chat]
) -> None:
    """ "换成蓝色M码的" on a card answers about that variant; it does not start an after-sales exchange."""
    chat = demo_chat(lang)
    await chat.say(CARD[lang])
    [card] = chat.of_type("product_card")
    await chat.say(SWAP_BLUE_M[lang])
    assert chat.text.startswith({"zh-Hans": "有的", "zh-Hant": "有的", "en": "Yes"}[lang]), chat.text
    assert any(b["payload"] == f"sku:{card['data']['code']}-BLUE-M:1" for b in chat.last[0]["buttons"]), (
        chat.text
    )
