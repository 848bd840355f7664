"""A whole purchase through WeChat messages, WeChat Pay and customer-service pushes."""

from __future__ import annotations

import re

import xmltodict

from bot.channels.wechat.outbound import WindowClosed
from dialogs.messages import TextReply
from tests.wechat.conftest import WeChatWorld


def choice(text: str, label: str) -> str:
    """The number in front of ``label`` among the numbered choices of ``text``."""
    found = re.search(rf"^(\d+)\. {re.escape(label)}", text, re.M)
    assert found, f"no choice {label!r} in {text}"
    return found.group(1)


async def notify(world: WeChatWorld, body: bytes) -> str:
    response = await world.client.post("/wechat/pay/notify", data=body)
    assert response.status == 200
    return str(xmltodict.parse(await response.text())["xml"]["return_code"])


async def test_purchase_through_wechat(world: WeChatWorld) -> None:
    o, user = world.official, "oBuyer"
    text = await o.say(user, "有没有红色连衣裙", encrypted=True)
    assert "红色碎花连衣裙" in text
    card = await o.say(user, "第一个")
    assert "红色碎花连衣裙" in card and "¥199.00" in card
    text = await o.say(user, choice(card, "加入购物车"))  # "2" presses a numbered button
    assert "哪一款" in text
    assert "已把 1 件" in await o.say(user, "L")
    assert "姓名、手机号、地址" in await o.say(user, "结算")
    assert "应付：¥199.00" in await o.say(user, "张三 13812345678 上海市浦东新区世纪大道100号")
    text = await o.say(user, "确认")
    assert "weixin://wxpay/bizpayurl" in text
    [(reference, trade)] = world.fake.trades.items()
    assert trade["total_fee"] == "19900" and trade["trade_type"] == "NATIVE"
    commerce = world.runtime.container.commerce
    orders = await commerce.orders.for_customer((await commerce.customers.identify("wechat", user)).id)
    number = orders[0].number

    # forged sign, wrong amount: refused, nothing changes
    assert await notify(world, world.fake.paid_notification(reference, key="0" * 32)) == "FAIL"
    assert await notify(world, world.fake.paid_notification(reference, amount=1)) == "FAIL"
    assert (await commerce.orders.get(number)).status == "pending_payment"
    # the real one, delivered twice as WeChat does: applied once
    body = world.fake.paid_notification(reference)
    assert await notify(world, body) == "SUCCESS"
    assert await notify(world, body) == "SUCCESS"
    assert (await commerce.orders.get(number)).status == "paid"
    await world.runtime.tick()
    pushed = world.fake.sent()
    assert len(pushed) == 1 and pushed[0]["touser"] == user
    content = pushed[0].get("msgmenu", {}).get("head_content") or pushed[0]["text"]["content"]
    assert "已收到订单" in content and number in content
    # the msgmenu item taps like a numbered reply
    if pushed[0]["msgtype"] == "msgmenu":
        item = pushed[0]["msgmenu"]["list"][0]
        o.created += 1
        xml = (
            f"<xml><ToUserName>gh</ToUserName><FromUserName>{user}</FromUserName><CreateTime>{o.created}"
            f"</CreateTime><MsgType>text</MsgType><Content>{item['content']}</Content><MsgId>77</MsgId>"
            f"<bizmsgmenuid>{item['id']}</bizmsgmenuid></xml>"
        )
        status, text = await o.post_xml(xml)
        assert status == 200 and number in text
    # refunds go through WeChat Pay's refund API
    refund = await world.channel.pay.refund(reference, 19900, "CNY", "RF1") if world.channel.pay else None
    assert refund and refund.succeeded and world.fake.refunds[0]["refund_fee"] == "19900"


async def test_query_when_no_notification_arrives(world: WeChatWorld) -> None:
    o, user = world.official, "oQuiet"
    await o.say(user, "有没有红色连衣裙")
    await o.say(user, "第一个")
    card = await o.say(user, "加入购物车")
    await o.say(user, "L" if "哪一款" in card else "结算")
    await o.say(user, "结算")
    await o.say(user, "张三 13812345678 上海市浦东新区世纪大道100号")
    await o.say(user, "确认")
    [reference] = world.fake.trades
    assert await world.channel.reconcile_payments() == 0  # too early to ask
    world.clock.advance(minutes=3)
    assert await world.channel.reconcile_payments() == 0  # asked: not paid yet
    world.fake.trade_state[reference] = "SUCCESS"
    assert await world.channel.reconcile_payments() == 1
    commerce = world.runtime.container.commerce
    customer = await commerce.customers.identify("wechat", user)
    assert (await commerce.orders.for_customer(customer.id))[0].status == "paid"
    # the late notification afterwards changes nothing
    assert await notify(world, world.fake.paid_notification(reference)) == "SUCCESS"


async def test_window_rules(world: WeChatWorld) -> None:
    o, sender, user = world.official, world.channel.sender, "oWin"
    await o.say(user, "你好")
    for i in range(5):
        await sender.push(user, [TextReply(f"n{i}")], f"k{i}")
    assert len(world.fake.sent()) == 5
    try:
        await sender.push(user, [TextReply("n5")], "k5")
        raise AssertionError("a sixth message inside one window must wait")
    except WindowClosed:
        pass
    # with a template configured, it goes as a template message instead
    sender._settings = sender._settings.model_copy(update={"notice_template_id": "TPL1"})
    await sender.push(user, [TextReply("n5")], "k5")
    [template] = world.fake.sent("/cgi-bin/message/template/send")
    assert template["template_id"] == "TPL1" and template["data"]["first"]["value"] == "n5"
    await sender.push(user, [TextReply("n5")], "k5")  # the outbox retried: not twice
    assert len(world.fake.sent("/cgi-bin/message/template/send")) == 1
    # 48 h later with no message from the shopper the window is shut
    world.clock.advance(hours=49)
    await o.say("oOther", "你好")
    await sender.push(user, [TextReply("late")], "k6")
    assert len(world.fake.sent("/cgi-bin/message/template/send")) == 2


async def test_access_token_shared_single_flight_and_refreshed_on_40001(world: WeChatWorld) -> None:
    import asyncio

    api, fake = world.channel.api, world.fake
    tokens = await asyncio.gather(*(api.tokens.get() for _ in range(20)))
    assert set(tokens) == {"TOKEN1"} and fake.token_fetches == 1
    fake.errors = [40001]
    await api.send_custom({"touser": "u", "msgtype": "text", "text": {"content": "x"}})
    assert fake.token_fetches == 2 and len(fake.sent()) == 2
    assert await api.tokens.get() == "TOKEN2"


def test_menu_definition_has_the_four_entries() -> None:
    from typer.testing import CliRunner

    from bot.cli import app

    result = CliRunner().invoke(app, ["wechat", "menu", "--dry-run"])
    assert result.exit_code == 0, result.output
    menu = result.output
    for key in ("search", "orders", "after_sales", "human"):
        assert f'"key": "{key}"' in menu
