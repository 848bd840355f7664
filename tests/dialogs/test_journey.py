"""Whole journeys through the console channel and the real pipeline, in three scripts."""

from __future__ import annotations

from collections.abc import Callable

from bot.runtime import Runtime
from commerce_core.clock import FakeClock
from tests.dialogs.conftest import Chat


async def test_zh_hans_search_to_paid_shipped_delivered_and_returned(
    runtime: Runtime, chat_factory: Callable[..., Chat], clock: FakeClock
) -> None:
    chat = chat_factory("zh-user", "zh-Hans")
    await chat.say("你好")
    assert "购物助手" in chat.text
    await chat.say("有没有红色连衣裙")
    [listing] = chat.of_type("product_list")
    assert listing["data"]["items"][0]["code"] == "D1"
    await chat.say("第一个")
    [card] = chat.of_type("product_card")
    assert card["data"]["code"] == "D1" and "¥199.00" in card["text"]
    await chat.say("加入购物车")
    assert "哪一款" in chat.text  # two sizes: the bot asks which
    await chat.say("L")
    assert "已把 1 件" in chat.text
    await chat.say("结算")
    assert "姓名、手机号、地址" in chat.text
    await chat.say("张三 13812345678 上海市浦东新区世纪大道100号")
    assert "应付：¥199.00" in chat.text and "138******78" in chat.text
    await chat.say("确认")
    [order] = chat.of_type("order")
    [payment] = chat.of_type("payment")
    number = order["data"]["number"]
    assert payment["data"]["amount"] == 19900
    await chat.press("sbxpay:")
    assert "已提交付款" in chat.text
    pushed = [r for r in chat.last if r.get("pushed")]
    assert pushed and "已收到订单" in pushed[0]["text"] and number in pushed[0]["text"]

    commerce = runtime.container.commerce
    await commerce.shipments.ship(number)
    clock.advance(days=10)
    await chat.say(f"我的订单 {number} 到哪了")
    [timeline] = chat.of_type("tracking")
    assert timeline["data"]["events"] and "已签收" in chat.text
    await chat.say("我要退货")
    assert "原因" in chat.text
    await chat.press("reason:size_fit")
    await chat.press("skip")
    assert "AS" in chat.text and "24小时" in chat.text
    cases = await commerce.after_sales.for_customer(
        order["data"].get("customer_id") or (await commerce.orders.get(number)).customer_id
    )
    assert cases[0].kind == "return" and cases[0].reason_code == "size_fit"
