"""A whole purchase through Telegram updates posted to the webhook, with a recording bot session."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.session import RecordedCall, RecordingSession
from bot.runtime import Runtime
from commerce_core.clock import FakeClock
from tests.telegram.conftest import SECRET, Shopper, body

Client = TestClient[web.Request, web.Application]


class Conversation:
    def __init__(self, client: Client, channel: TelegramChannel, session: RecordingSession) -> None:
        self.client = client
        self.channel = channel
        self.session = session
        self.last: list[RecordedCall] = []

    async def post(self, update: dict[str, Any]) -> list[RecordedCall]:
        before = len(self.session.calls)
        response = await self.client.post(
            "/telegram/webhook", data=body(update), headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
        )
        assert response.status == 200
        await self.channel.drain()
        self.last = self.session.calls[before:]
        return self.last

    @property
    def text(self) -> str:
        return "\n".join(str(c.params.get("text") or c.params.get("caption") or "") for c in self.last)

    def callback(self, prefix: str) -> str:
        for call in self.last:
            for row in call.params.get("reply_markup", {}).get("inline_keyboard", []):
                for button in row:
                    data = button.get("callback_data", "")
                    if data.startswith(prefix):
                        return str(data)
        raise AssertionError(f"no button {prefix!r} in {[c.params for c in self.last]}")


async def buy_until_invoice(conv: Conversation, shopper: Shopper) -> dict[str, Any]:
    await conv.post(shopper.text("有没有红色连衣裙"))
    assert "红色碎花连衣裙" in conv.text
    await conv.post(shopper.tap(conv.callback("t|p:D1")))
    assert "¥199.00" in conv.text
    await conv.post(shopper.tap(conv.callback("t|add:D1")))
    assert "哪一款" in conv.text
    await conv.post(shopper.tap(conv.callback("t|sku:D1-RED-L")))
    assert "已把 1 件" in conv.text
    await conv.post(shopper.text("结算"))
    assert "姓名、手机号、地址" in conv.text
    keyboard = conv.last[-1].params["reply_markup"]["keyboard"]
    assert keyboard[0][0]["request_contact"] is True and keyboard[1][0]["request_location"] is True
    await conv.post(shopper.text("张三 13812345678 上海市浦东新区世纪大道100号"))
    assert "应付：¥199.00" in conv.text
    await conv.post(shopper.tap(conv.callback("t|yes")))
    [invoice] = [c for c in conv.last if c.method == "sendInvoice"]
    return invoice.params


async def test_search_to_paid_order_through_telegram(
    client: Client, channel: TelegramChannel, session: RecordingSession, runtime: Runtime
) -> None:
    conv = Conversation(client, channel, session)
    shopper = Shopper()
    invoice = await buy_until_invoice(conv, shopper)
    assert invoice["currency"] == "CNY" and invoice["prices"][0]["amount"] == 19900
    assert invoice["provider_token"] == "284685063:TEST:provider"
    payload = invoice["payload"]
    _payment_id, number = payload.split(":")
    order = await runtime.commerce.orders.get(number)
    assert order.status == "pending_payment"

    await conv.post(shopper.pre_checkout(payload, 19900))
    [answer] = conv.last
    assert answer.method == "answerPreCheckoutQuery" and answer.params["ok"] is True

    await conv.post(shopper.paid(payload, 19900, "tg-charge-1"))
    assert (await runtime.commerce.orders.get(number)).status == "paid"
    before = len(session.calls)
    await runtime.tick()
    confirmations = session.calls[before:]
    assert len(confirmations) == 1 and number in confirmations[0].params["text"]
    assert "已收到订单" in confirmations[0].params["text"]

    # the same successful payment delivered again (another update) has no second effect
    await conv.post(shopper.paid(payload, 19900, "tg-charge-1"))
    before = len(session.calls)
    await runtime.tick()
    assert session.calls[before:] == []
    assert (await runtime.commerce.orders.get(number)).status == "paid"


async def test_stale_invoice_price_changed_is_refused_at_pre_checkout(
    client: Client, channel: TelegramChannel, session: RecordingSession, runtime: Runtime
) -> None:
    conv = Conversation(client, channel, session)
    shopper = Shopper(7002)
    invoice = await buy_until_invoice(conv, shopper)
    await runtime.commerce.catalog.set_price("D1-RED-L", 25900, actor="merchant")
    await conv.post(shopper.pre_checkout(invoice["payload"], 19900))
    [answer] = conv.last
    assert answer.params["ok"] is False and "价格已变动" in answer.params["error_message"]


async def test_stale_invoice_stock_released_is_refused_at_pre_checkout(
    client: Client, channel: TelegramChannel, session: RecordingSession, runtime: Runtime, clock: FakeClock
) -> None:
    conv = Conversation(client, channel, session)
    shopper = Shopper(7003, lang="en")
    invoice = await buy_until_invoice(conv, shopper)
    clock.advance(minutes=31)  # the payment window passed; the reservation is (about to be) released
    await conv.post(shopper.pre_checkout(invoice["payload"], 19900))
    [answer] = conv.last
    assert answer.params["ok"] is False and "付款时间" in answer.params["error_message"]
    await runtime.tick()  # the expiry job cancels the order and releases the stock
    await conv.post(shopper.pre_checkout(invoice["payload"], 19900))
    [answer] = conv.last
    assert answer.params["ok"] is False and "不能再付款" in answer.params["error_message"]
    # a wrong amount is refused too
    await conv.post(shopper.pre_checkout(invoice["payload"], 100))
    assert conv.last[0].params["ok"] is False


async def test_contact_keyboard_is_taken_away_once_the_address_is_given(
    client: Client, channel: TelegramChannel, session: RecordingSession
) -> None:
    """The "share my phone number" keyboard stays under the text box until a reply removes it; the
    flag that says it is shown is read only when a reply can carry the removal (issue 16)."""
    conv = Conversation(client, channel, session)
    shopper = Shopper(7010)
    await buy_until_invoice(conv, shopper)
    markups = [c.params.get("reply_markup") for c in session.calls]
    shown = next(i for i, m in enumerate(markups) if m and "keyboard" in m)
    removed = [i for i, m in enumerate(markups) if m == {"remove_keyboard": True}]
    # the reply to the address takes it away, once: later turns send no removal again
    assert removed == [shown + 1]
