"""Every flow answers in the shopper's own script: the same journey table in zh-Hans, zh-Hant and en."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.runtime import Runtime
from commerce_core.clock import FakeClock
from commerce_core.orders.types import LineRequest
from dialogs.texts import load_texts
from tests.commerce.factory import ADDRESS
from tests.dialogs.conftest import Chat

# flow -> what the shopper says in each script, and the text key (or reply type) that must answer
UTTERANCES: dict[str, dict[str, str]] = {
    "greet": {"zh-Hans": "你好", "zh-Hant": "您好呀", "en": "hello"},
    "help": {"zh-Hans": "你能做什么", "zh-Hant": "你能做什麼", "en": "what can you do"},
    "search": {"zh-Hans": "我想买耳机", "zh-Hant": "我想買耳機", "en": "do you have headphones"},
    "recommend": {"zh-Hans": "有什么推荐的吗", "zh-Hant": "有什麼推薦的嗎", "en": "what do you recommend"},
    "cart": {"zh-Hans": "看看我的购物车", "zh-Hant": "看看我的購物車", "en": "show my cart"},
    "checkout": {"zh-Hans": "去结算", "zh-Hant": "去結帳", "en": "checkout"},
    "order_status": {"zh-Hans": "我的订单到哪了", "zh-Hant": "我的訂單到哪了", "en": "where is my order"},
    "cancel": {"zh-Hans": "我要取消订单", "zh-Hant": "我要取消訂單", "en": "i want to cancel my order"},
    "change_address": {
        "zh-Hans": "我想改收货地址",
        "zh-Hant": "我想改收貨地址",
        "en": "i need to change my delivery address",
    },
    "return": {"zh-Hans": "我要退货", "zh-Hant": "我要退貨", "en": "i want to return an item"},
    "complaint": {"zh-Hans": "我要投诉", "zh-Hant": "我要投訴", "en": "i want to make a complaint"},
    "account": {
        "zh-Hans": "查看我的账户信息",
        "zh-Hant": "查看我的帳戶資訊",
        "en": "show my account details",
    },
    "privacy": {
        "zh-Hans": "你们收集了我哪些个人数据",
        "zh-Hant": "你們收集了我哪些個人資料",
        "en": "what personal data do you keep about me",
    },
    "human": {"zh-Hans": "转人工客服", "zh-Hant": "轉人工客服", "en": "let me talk to a human"},
    "thanks": {"zh-Hans": "谢谢", "zh-Hant": "謝謝你", "en": "thank you"},
    "goodbye": {"zh-Hans": "再见", "zh-Hant": "再見", "en": "bye"},
}
EXPECT: dict[str, str] = {
    "greet": "greet.hello",
    "help": "help.text",
    "search": "product_list",
    "recommend": "product_list",
    "cart": "cart",
    "checkout": "checkout.ask_address",
    "order_status": "order",
    "cancel": "cancel.confirm",
    "change_address": "address.ask_new",
    "return": "after_sales.ask_reason",
    "complaint": "complaint.ask_details",
    "account": "account",
    "privacy": "privacy.explain",
    "human": "handoff",
    "thanks": "thanks.welcome",
    "goodbye": "goodbye.bye",
}


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant", "en"])
async def test_every_flow_in_each_script(
    lang: str, chat_factory: Callable[..., Chat], runtime: Runtime, clock: FakeClock
) -> None:
    commerce = runtime.container.commerce
    user = f"matrix-{lang}"
    customer = await commerce.customers.identify("console", user, language=lang)
    delivered = await commerce.orders.place(customer.id, ADDRESS, "d", items=[LineRequest("D2-BLK-S", 1)])
    await commerce.payments.sandbox_pay((await commerce.payments.start(delivered.number)).payment_id)
    await commerce.shipments.ship(delivered.number)
    clock.advance(days=9)
    await commerce.shipments.refresh_open()
    texts = load_texts()
    for flow, by_lang in UTTERANCES.items():
        chat = chat_factory(user, lang)
        if flow in ("cart", "checkout"):
            await chat.tap("sku:D3-BLU-M:1")
        if flow in ("cancel", "change_address"):
            pending = await commerce.orders.place(
                customer.id, ADDRESS, f"p-{flow}", items=[LineRequest("H1-BLK", 1)]
            )
            await chat.say(f"{by_lang[lang]} {pending.number}")
        else:
            await chat.say(by_lang[lang])
        expected = EXPECT[flow]
        if "." in expected:
            template = texts.get(lang, expected).split("{")[0][:12]
            assert template in chat.text, (flow, lang, chat.text)
        elif expected == "account":
            assert texts.get(lang, "account.profile").split("\n")[0] in chat.text, (flow, lang, chat.text)
        else:
            assert chat.of_type(expected), (flow, lang, chat.text)
        await chat.say("/lang " + lang)  # leave no flow half-open for the next row
        await chat.say(texts.get(lang, "button.cancel"))
        if flow == "human":  # "cancel" while waiting for a person leaves the queue: the bot is back
            assert texts.get(lang, "handoff.left")[:8] in chat.text, (lang, chat.text)
            assert await commerce.support.active_for(f"console:{user}") is None
