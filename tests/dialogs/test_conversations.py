"""Conversations a good clerk would handle: three scripts, interruptions, references, corrections."""

from __future__ import annotations

import asyncio
import json
import re
from base64 import b64decode
from collections.abc import Callable

from bot.runtime import Runtime
from bot.turns import lock_key as conversation_lock
from commerce_core.clock import FakeClock
from commerce_core.orders.types import LineRequest
from tests.commerce.factory import ADDRESS
from tests.dialogs.conftest import Chat


async def place_and_pay(chat: Chat, *, address: str) -> str:
    await chat.say("checkout" if chat.session.language == "en" else "结算")
    await chat.say(address)
    await chat.press("yes")
    [order] = chat.of_type("order")
    await chat.press("sbxpay:")
    return str(order["data"]["number"])


async def test_english_journey_with_a_digression_that_resumes(chat_factory: Callable[..., Chat]) -> None:
    chat = chat_factory("en-user", "en")
    await chat.say("show me red dresses")
    assert chat.of_type("product_list")[0]["data"]["items"][0]["code"] == "D1"
    await chat.say("the first one")
    assert chat.of_type("product_card")[0]["data"]["code"] == "D1"
    await chat.say("add it")
    assert "Which one" in chat.text
    await chat.say("L")
    assert "Added 1 × Red Floral Dress red L" in chat.text
    await chat.say("checkout")
    assert "delivery address" in chat.text
    await chat.say("where is my last order?")  # digression in the middle of checkout...
    assert "no orders yet" in chat.text and "Back to where we were" in chat.text
    assert "delivery address" in chat.text  # ...and back to the address question
    await chat.say("Li Lei 13912345678 Shanghai Pudong Century Avenue 100")
    assert "Total to pay: ¥199.00" in chat.text and "139******78" in chat.text and "L* L**" in chat.text
    await chat.say("yes")
    assert chat.of_type("order") and chat.of_type("payment")


async def test_traditional_chinese_is_understood_and_answered_in_traditional(
    chat_factory: Callable[..., Chat],
) -> None:
    chat = chat_factory("hant-user", "zh-Hant")
    await chat.say("有沒有紅色的連衣裙")
    assert "找到 1 件商品" in chat.text
    await chat.say("第一個")
    card = chat.of_type("product_card")[0]
    assert card["data"]["title"] == "紅色碎花連衣裙"
    assert "雪紡面料" in card["text"]  # simplified-only description shown in traditional
    await chat.say("加入購物車")
    await chat.say("M")
    assert "已把 1 件 紅色碎花連衣裙 紅色 M 加入購物車" in chat.text


async def test_language_is_detected_and_switchable(
    chat_factory: Callable[..., Chat], runtime: Runtime
) -> None:
    chat = chat_factory("switcher")
    await chat.say("hello there")
    assert "shopping assistant" in chat.text
    await chat.say("切换中文")
    assert "简体中文" in chat.text
    await chat.say("/lang zh-Hant")
    assert "繁體中文" in chat.text
    await chat.say("English please")
    assert "English" in chat.text
    await chat.say("我想看看耳机")  # writing Chinese switches back
    assert "无线降噪耳机" in chat.text
    customer = await runtime.container.commerce.customers.identify("console", "switcher")
    assert customer.language == "zh-Hans"


async def test_references_to_what_was_shown(chat_factory: Callable[..., Chat]) -> None:
    chat = chat_factory("refs", "zh-Hans")
    await chat.say("连衣裙")
    shown = [item["code"] for item in chat.of_type("product_list")[0]["data"]["items"]]
    assert len(shown) == 3
    await chat.say("第二个")
    assert chat.of_type("product_card")[0]["data"]["code"] == shown[1]
    await chat.say("连衣裙")
    await chat.say("最后一个")
    assert chat.of_type("product_card")[0]["data"]["code"] == shown[-1]
    await chat.say("连衣裙")
    await chat.say("p:D1")  # a shown button's payload typed as a line presses it
    await chat.say("红色 L 的来2件")
    assert "已把 2 件 红色碎花连衣裙 红色 L" in chat.text


async def test_cart_view_change_and_remove(chat_factory: Callable[..., Chat]) -> None:
    chat = chat_factory("cart-user", "en")
    await chat.tap("sku:D1-RED-M:1")
    await chat.tap("sku:H1-BLK:1")
    await chat.say("show my cart")
    [cart] = chat.of_type("cart")
    assert [line["sku"] for line in cart["data"]["lines"]] == ["D1-RED-M", "H1-BLK"]
    await chat.press("inc:D1-RED-M")
    assert chat.of_type("cart")[0]["data"]["lines"][0]["quantity"] == 2
    await chat.say("remove the headphones")
    assert "Removed Wireless Noise Cancelling Headphones" in chat.text
    await chat.say("change it to 3")
    assert chat.of_type("cart")[0]["data"]["lines"][0]["quantity"] == 3


async def test_help_cancel_and_two_misunderstandings_offer_a_person(
    chat_factory: Callable[..., Chat],
) -> None:
    chat = chat_factory("lost", "en")
    await chat.tap("sku:D2-BLK-S:1")
    await chat.say("checkout")
    await chat.say("cancel")
    assert "cancelled" in chat.text.lower()
    await chat.say("asdkjh qwe")
    assert "didn't quite get" in chat.text
    await chat.say("zzxq plorf")
    assert "talk to a person" in chat.text.lower()
    await chat.press("human")
    [notice] = chat.of_type("handoff")
    assert notice["data"]["ticket_number"].startswith("TK")


async def test_bot_stays_silent_while_a_person_handles_the_conversation(
    chat_factory: Callable[..., Chat], runtime: Runtime
) -> None:
    """Waiting: the shopper hears their place in the queue; with an agent: the bot is silent and the
    messages reach the agent's history; resolved: the bot answers again."""
    support = runtime.container.commerce.support
    chat = chat_factory("handoff", "zh-Hans")
    await chat.say("转人工")
    number = chat.of_type("handoff")[0]["data"]["ticket_number"]
    await chat.say("你好，在吗？")
    assert "排在第 1 位" in chat.text
    await support.claim(number, "amy")
    await chat.say("我的订单还没到")
    assert chat.last == []
    assert [m.text for m in await support.history(number)] == ["你好，在吗？", "我的订单还没到"]
    await support.resolve(number, actor="amy")
    await chat.say("你好")
    assert chat.last != [] and "排在" not in chat.text


async def test_pay_track_cancel_and_change_address(
    chat_factory: Callable[..., Chat], runtime: Runtime, clock: FakeClock
) -> None:
    commerce = runtime.container.commerce
    chat = chat_factory("orders", "zh-Hans")
    await chat.tap("sku:D3-BLU-M:1")
    number = await place_and_pay(chat, address="王五 13900001111 杭州市西湖区文三路1号")
    assert any("已收到订单" in r["text"] for r in chat.last if r.get("pushed"))
    await chat.say(f"订单 {number} 改地址")
    await chat.say("王五 13900001111 杭州市滨江区江南大道2号")
    assert "江南" in chat.text or "杭州" in chat.text
    assert (await commerce.orders.get(number)).address.line.endswith("江南大道2号")
    await chat.say("取消订单")
    assert "全额退回" in chat.text
    await chat.press("yes")
    assert "已取消" in chat.text
    assert (await commerce.orders.get(number)).status == "cancelled"
    pushed = [r["text"] for r in chat.last if r.get("pushed")]
    assert any("退款" in text for text in pushed)


async def test_tracking_timeline_and_shipping_notifications(
    chat_factory: Callable[..., Chat], runtime: Runtime, clock: FakeClock
) -> None:
    chat = chat_factory("tracker", "en")
    await chat.tap("sku:D2-BLK-S:1")
    number = await place_and_pay(chat, address="Li Lei 13912345678 Beijing Chaoyang Road 1")
    await runtime.container.commerce.shipments.ship(number)
    await chat.say("where is my order?")
    assert chat.of_type("order") and number in chat.text
    pushed = [r["text"] for r in chat.last if r.get("pushed")]
    assert any("has shipped" in text for text in pushed)
    clock.advance(days=8)
    await chat.press("track:")
    [timeline] = chat.of_type("tracking")
    assert timeline["data"]["tracking_number"].startswith("SX")
    assert "Delivered" in timeline["text"] and "Beijing" in timeline["text"]
    assert (
        "13912345678" not in timeline["text"] and "Li Lei" not in timeline["text"]
    )  # nothing personal on the parcel


async def test_after_sales_exchange_with_photo_and_repair(
    chat_factory: Callable[..., Chat], runtime: Runtime, clock: FakeClock
) -> None:
    commerce = runtime.container.commerce
    customer = await commerce.customers.identify("console", "as-user", language="en")
    order = await commerce.orders.place(customer.id, ADDRESS, "k", items=[LineRequest("H1-BLK", 2)])
    await commerce.payments.sandbox_pay((await commerce.payments.start(order.number)).payment_id)
    await commerce.shipments.ship(order.number)
    clock.advance(days=10)
    await commerce.shipments.refresh_open()
    chat = chat_factory("as-user", "en")
    await chat.say("I want to exchange it, it's broken")
    assert "reason" in chat.text.lower()
    await chat.say("the left earcup makes no sound")
    await chat.say("skip")
    assert "exchange request is case AS" in chat.text and "within 24 hours" in chat.text
    await chat.say("my headphones need repair")
    await chat.press("reason:broken")
    await chat.press("skip")
    cases = await commerce.after_sales.for_customer(customer.id)
    assert sorted(c.kind for c in cases) == ["exchange", "repair"]


async def test_account_phone_binding_with_sms_code(
    chat_factory: Callable[..., Chat], runtime: Runtime
) -> None:
    chat = chat_factory("phone-user", "zh-Hans")
    await chat.say("我要绑定手机号")
    assert "手机号是多少" in chat.text
    await chat.say("13700001234")
    assert "137******34" in chat.text
    phone, sms = runtime.sms.sent[-1]
    assert phone == "+8613700001234"
    code = re.search(r"\d{6}", sms).group()  # type: ignore[union-attr]
    await chat.say("000000" if code != "000000" else "111111")
    assert "验证码不对" in chat.text
    await chat.say(code)
    assert "已验证并绑定" in chat.text
    customer = await runtime.container.commerce.customers.identify("console", "phone-user")
    assert customer.phone == "+8613700001234" and customer.phone_verified


async def test_privacy_export_and_delete(chat_factory: Callable[..., Chat], runtime: Runtime) -> None:
    commerce = runtime.container.commerce
    chat = chat_factory("private", "en")
    await chat.tap("sku:D2-BLK-S:1")
    number = await place_and_pay(chat, address="Ada Lovelace 13912345678 Shanghai Nanjing Road 1")
    await chat.say("I want a copy of my personal data")
    [file] = chat.of_type("file")
    exported = json.loads(b64decode(file["content_base64"]))
    assert exported["orders"][0]["number"] == number
    assert exported["addresses"][0]["recipient"] == "Ada Lovelace"
    await chat.say("delete my data")
    await chat.press("yes")
    assert "deleted" in chat.text
    order = await commerce.orders.get(number)
    assert order.address.recipient == "-" and order.address.phone == "-"  # kept, anonymised
    exported_again = json.dumps(await commerce.privacy.export(order.customer_id) if False else {})
    assert "Ada" not in exported_again
    await chat.say("hi")  # a new conversation, a new customer
    fresh = await commerce.customers.identify("console", "private")
    assert fresh.id != order.customer_id
    assert await commerce.orders.for_customer(fresh.id) == []


async def test_complaint_is_tracked(chat_factory: Callable[..., Chat], runtime: Runtime) -> None:
    chat = chat_factory("angry", "zh-Hans")
    await chat.say("我要投诉")
    assert "发生了什么" in chat.text
    await chat.say("快递员态度很差，还把箱子摔坏了")
    assert "已登记为 TK" in chat.text
    queue = await runtime.container.commerce.support.queue()
    assert any("摔坏" in t.reason for t in queue)


async def test_messages_of_one_user_arriving_together_keep_their_order(
    chat_factory: Callable[..., Chat], runtime: Runtime
) -> None:
    chat = chat_factory("burst", "en")
    chat.session.seen_payloads.update({"sku:D1-RED-M:1", "sku:D2-BLK-S:1"})  # buttons shown earlier
    messages = [
        chat.session.to_message(text) for text in ("sku:D1-RED-M:1", "sku:D2-BLK-S:1", "show my cart")
    ]
    replies = await asyncio.gather(*[runtime.pipeline.handle(m) for m in messages])
    cart = next(r for r in replies[2] if r.kind == "cart")
    assert [line.sku for line in cart.lines] == ["D1-RED-M", "D2-BLK-S"]
    again = await runtime.pipeline.handle(messages[0])  # the same delivery again: no second effect,
    assert again == replies[0]  # but the same answer (the first one may never have reached the shopper)
    assert (
        await runtime.container.commerce.cart.view(
            (await runtime.container.commerce.customers.identify("console", "burst")).id
        )
    ).item_count == 2


async def test_a_turn_waits_while_another_process_holds_the_conversation(
    chat_factory: Callable[..., Chat], runtime: Runtime
) -> None:
    chat = chat_factory("shared", "en")
    message = chat.session.to_message("show my cart")
    lock_key = conversation_lock(message.conversation_key)
    redis = runtime.pipeline.redis
    await redis.set(lock_key, "another-process", px=10_000)  # another process is mid-turn
    turn = asyncio.create_task(runtime.pipeline.handle(message))
    await asyncio.sleep(0.2)
    assert not turn.done()  # it waits instead of answering from a state that is being changed
    await redis.delete(lock_key)  # the other process is done
    replies = await asyncio.wait_for(turn, 5)
    assert "cart is empty" in replies[0].text  # type: ignore[attr-defined]
    assert await redis.get(lock_key) is None  # and our own lock is given back
    assert await runtime.pipeline.handle(message) == replies  # a redelivery: the stored reply, lock returned
    replies = await asyncio.wait_for(runtime.pipeline.handle(chat.session.to_message("show my cart")), 5)
    assert "cart is empty" in replies[0].text  # type: ignore[attr-defined]


async def test_moving_on_while_choosing_a_size_leaves_that_question(
    chat_factory: Callable[..., Chat],
) -> None:
    """Regression: a new search mid size-choice kept the size question open, so "the first one"
    added a dress instead of opening the first headphone."""
    chat = chat_factory("mover", "en")
    await chat.tap("add:D1")
    assert "Which one" in chat.text
    await chat.say("do you have headphones")
    assert chat.of_type("product_list")
    await chat.say("the first one")
    assert chat.of_type("product_card")[0]["data"]["code"] == "H1"
    assert "Colours: black" in chat.text


async def test_a_sold_out_option_is_said_so(chat_factory: Callable[..., Chat], runtime: Runtime) -> None:
    await runtime.container.commerce.inventory.set_on_hand("D1-RED-M", 0, actor="test")
    chat = chat_factory("sold-out", "zh-Hans")
    await chat.tap("add:D1")
    await chat.say("M")
    assert "已售罄" in chat.text
    await chat.say("L")
    assert "已把 1 件 红色碎花连衣裙 红色 L" in chat.text


async def test_a_first_hi_in_english_is_answered_in_english(chat_factory: Callable[..., Chat]) -> None:
    chat = chat_factory("first-hi")
    await chat.say("hi")
    assert "shopping assistant" in chat.text


async def test_checkout_while_choosing_a_size_asks_for_the_size_first(
    chat_factory: Callable[..., Chat],
) -> None:
    chat = chat_factory("eager", "en")
    await chat.tap("add:D1")
    await chat.say("checkout")
    assert "pick one of the options" in chat.text
    await chat.say("L")
    await chat.say("checkout")
    assert "delivery address" in chat.text


async def test_a_size_question_does_not_hold_the_shopper_forever(chat_factory: Callable[..., Chat]) -> None:
    chat = chat_factory("looper", "zh-Hans")
    await chat.tap("add:D1")
    await chat.say("随便")
    await chat.say("随便吧")
    assert "选一款" in chat.text
    await chat.say("随便啦")
    assert "先不加了" in chat.text
    await chat.say("我的订单")
    assert "还没有订单" in chat.text


async def test_binding_a_phone_already_verified_elsewhere_links_the_accounts(
    chat_factory: Callable[..., Chat], runtime: Runtime
) -> None:
    commerce = runtime.container.commerce
    on_wechat = await commerce.customers.identify("wechat", "o-linked", language="zh-Hans")
    await commerce.customers.bind_phone(on_wechat.id, "13600001234", verified=True)
    order = await commerce.orders.place(on_wechat.id, ADDRESS, "w", items=[LineRequest("D2-BLK-S", 1)])
    chat = chat_factory("linker", "zh-Hans")
    await chat.say("绑定手机号 13600001234")
    code = re.search(r"\d{6}", runtime.sms.sent[-1][1]).group()  # type: ignore[union-attr]
    await chat.say(code)
    assert "两个账户已合并" in chat.text
    await chat.say("我的订单")
    assert order.number in chat.text
