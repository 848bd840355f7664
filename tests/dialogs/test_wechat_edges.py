"""R4.1-3 (issue 14 rough edges) on WeChat, in three scripts: the checkout confirmation offers no +/-
choices before "Place order", so replying "1" (WeChat's numbered choices) places the order instead of
adding a unit. On the way: "add to cart" under a one-item list adds that item."""

from __future__ import annotations

import pytest

from dialogs.texts import load_texts
from tests.wechat.conftest import WeChatWorld, world  # noqa: F401

TEXTS = load_texts()
SEARCH = {
    "zh-Hans": "有蓝色牛仔连衣裙吗",
    "zh-Hant": "有藍色牛仔連衣裙嗎",
    "en": "do you have a blue denim dress",
}
ADD = {"zh-Hans": "加入购物车", "zh-Hant": "加入購物車", "en": "add to cart"}
CHECKOUT = {"zh-Hans": "结算", "zh-Hant": "結帳", "en": "checkout"}
ADDRESS = {
    "zh-Hans": "张三 13812345678 上海市浦东新区世纪大道100号",
    "zh-Hant": "張三 13812345678 上海市浦東新區世紀大道100號",
    "en": "Li Lei, 13812345678, 100 Century Avenue, Pudong, Shanghai",
}


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant", "en"])
async def test_replying_1_at_the_confirmation_places_the_order(lang: str, world: WeChatWorld) -> None:  # noqa: F811
    o, user = world.official, f"oOne{lang.replace('-', '')}"
    await o.say(user, SEARCH[lang])
    added = await o.say(user, ADD[lang])
    assert (
        TEXTS.get(lang, "cart.added", quantity=1, title="\x00", options="", count=1).split("\x00")[0] in added
    ), added
    await o.say(user, CHECKOUT[lang])
    confirmation = await o.say(user, ADDRESS[lang])
    choices = confirmation.split(TEXTS.get(lang, "wechat.choose"))[-1]
    assert choices.strip().startswith("1. " + TEXTS.get(lang, "button.confirm_order")), confirmation
    assert "+" not in choices and "−" not in choices  # nothing that would add or take away a unit
    await o.say(user, "1")
    commerce = world.runtime.commerce
    customer = await commerce.customers.identify("wechat", user)
    [order] = await commerce.orders.for_customer(customer.id)
    assert [(line.sku_code, line.quantity) for line in order.lines] == [("D3-BLU-M", 1)]
