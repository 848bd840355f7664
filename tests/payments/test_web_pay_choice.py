"""The web chat with both Alipay and WeChat Pay NATIVE configured, in production (no sandbox): the
shopper is offered a button per provider in their language, each leads to that provider's QR image,
and only the picked provider's signed notification pays the order (issue 11, finding 13; R5.3-3).
A notice of the other provider, or a forged one, changes nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.http.app import create_app
from bot.payments.settings import PaymentSettings
from bot.runtime import Runtime
from commerce_core.api import FakeClock, OrderStatus, customer_key
from commerce_core.outbox.model import OutboxMessage
from dialogs.texts import load_texts
from tests.payments.fake_alipay import FakeAlipay
from tests.payments.production import chat, production_runtime, session_headers
from tests.wechat.conftest import FakeWeChat, wechat_settings

Client = TestClient[web.Request, web.Application]
TYPED_ADDRESS = "张三 13812345678 上海市浦东新区世纪大道100号"
TEXTS = load_texts()


@pytest.fixture(scope="module")
def alipay() -> FakeAlipay:
    return FakeAlipay()  # RSA key generation is the slow part: once per module


@pytest_asyncio.fixture
async def client(
    db_url: str, tmp_path: Path, clock: FakeClock, interpreter: Any, alipay: FakeAlipay
) -> AsyncIterator[tuple[Client, Runtime, FakeWeChat]]:
    wechat = FakeWeChat()

    def platforms(request: httpx.Request) -> httpx.Response:
        """Both payment platforms behind one local transport, told apart by host."""
        return alipay.handle(request) if request.url.host == "alipay.test" else wechat(request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(platforms))
    runtime = await production_runtime(
        db_url,
        tmp_path,
        clock,
        interpreter,
        http=http,
        payments=PaymentSettings(alipay=alipay.settings),
        wechat=wechat_settings(token="", pay_base="https://api.mch.weixin.qq.com"),
    )
    try:
        async with TestClient(TestServer(create_app(runtime), host="127.0.0.1")) as test_client:
            yield test_client, runtime, wechat
    finally:
        await runtime.aclose()
        await http.aclose()


async def place_order(http: Client, user: str, lang: str) -> dict[str, Any]:
    """Search to a confirmed order; returns the reply that asks how to pay."""
    await chat(http, user, text="有没有红色连衣裙", lang=lang)
    for payload in ("p:D1", "add:D1", "sku:D1-RED-L:1", "checkout"):
        await chat(http, user, payload=payload)
    await chat(http, user, text=TYPED_ADDRESS)
    await chat(http, user, payload=f"lang:{lang}")  # the typed Chinese set zh-Hans; the shopper's pick
    replies = await chat(http, user, payload="yes:checkout")
    assert not [r for r in replies if r["type"] == "payment"]  # nothing to pay until a provider is picked
    [choice] = [r for r in replies if len(r.get("buttons", ())) == 2]
    return choice


def picked(choice: dict[str, Any], lang: str, provider: str) -> str:
    """The payload of ``provider``'s button, after checking both buttons read in ``lang``."""
    labels = {b["label"]: b["payload"] for b in choice["buttons"]}
    assert set(labels) == {TEXTS.get(lang, "webpay.alipay"), TEXTS.get(lang, "webpay.wechatpay_native")}
    return labels[TEXTS.get(lang, f"webpay.{provider}")]


async def status(runtime: Runtime, number: str) -> OrderStatus:
    return (await runtime.container.commerce.orders.get(number)).status


async def queued_for(runtime: Runtime, number: str) -> list[str]:
    """The event types still waiting in the outbox for the shopper of order ``number``."""
    order = await runtime.container.commerce.orders.get(number)
    async with runtime.container.commerce.sessions() as session:
        found = await session.scalars(
            select(OutboxMessage.event_type).where(
                OutboxMessage.ordering_key == customer_key(order.customer_id),
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.parked_at.is_(None),
            )
        )
        return list(found.all())


async def test_a_shopper_picks_alipay_and_only_alipays_signed_notice_pays(
    client: tuple[Client, Runtime, FakeWeChat], alipay: FakeAlipay
) -> None:
    http, runtime, wechat = client
    choice = await place_order(http, "pick-alipay", "en")
    assert choice["text"].startswith("How would you like to pay")
    [payment] = [
        r
        for r in await chat(http, "pick-alipay", payload=picked(choice, "en", "alipay"))
        if r["type"] == "payment"
    ]
    data = payment["data"]
    assert data["provider"] == "alipay" and alipay.calls[-1][0] == "alipay.trade.precreate"
    assert not [c for c in wechat.calls if c[0] == "/pay/unifiedorder"]  # WeChat Pay was never asked
    image = await http.get(f"/pay/qr/{data['payment_id']}.svg")
    assert image.status == 200 and (await image.text()).startswith("<svg")

    # WeChat Pay's signed notice naming the Alipay payment: not a payment of that provider
    wechat.trades[data["payment_id"]] = {"trade_type": "NATIVE", "total_fee": str(data["amount"])}
    other = await http.post(
        "/payments/wechatpay_native/notify", data=wechat.paid_notification(data["payment_id"])
    )
    forged = await http.post(
        "/payments/alipay/notify", data=alipay.notification(data["payment_id"], amount="0.01")
    )
    assert other.status == 400 and forged.status == 400
    assert await status(runtime, data["order_number"]) == OrderStatus.PENDING_PAYMENT

    # another shopper's order waits in the outbox meanwhile (its notifications are the relay job's)
    bystander = (await place_order(http, "bystander", "zh-Hant"))["text"].split()[1]  # "訂單 {number} ..."
    assert await queued_for(runtime, bystander)

    paid = await http.post("/payments/alipay/notify", data=alipay.notification(data["payment_id"]))
    assert paid.status == 200 and await paid.text() == "success"
    assert await status(runtime, data["order_number"]) == OrderStatus.PAID
    # the callback relayed the payer's notifications (the confirmation is in their web inbox) and
    # nobody else's (issue 16: it drained the whole outbox inline)
    assert await queued_for(runtime, data["order_number"]) == []
    assert await queued_for(runtime, bystander)
    pushed = (await http.get("/api/inbox", headers=session_headers(http, "pick-alipay"))).json()
    [confirmation] = (await pushed)["replies"]
    assert data["order_number"] in confirmation["text"] and confirmation["pushed"]


async def test_a_shopper_picks_wechat_pay_and_only_its_signed_notice_pays(
    client: tuple[Client, Runtime, FakeWeChat], alipay: FakeAlipay
) -> None:
    http, runtime, wechat = client
    choice = await place_order(http, "pick-wechat", "zh-Hant")
    number = choice["text"].split()[1]  # "訂單 {number} ..."
    # hostile presses: a provider that is not on offer, another shopper's order
    for payload in (f"paywith:sandbox:{number}", "paywith:alipay:ORD0000000000"):
        replies = await chat(http, "pick-wechat", payload=payload)
        assert replies and not [r for r in replies if r["type"] == "payment"]
    other_shopper = await chat(http, "someone-else", payload=f"paywith:alipay:{number}")
    assert not [r for r in other_shopper if r["type"] == "payment"]

    replies = await chat(http, "pick-wechat", payload=picked(choice, "zh-Hant", "wechatpay_native"))
    [payment] = [r for r in replies if r["type"] == "payment"]
    data = payment["data"]
    assert data["provider"] == "wechatpay_native" and data["order_number"] == number
    [(_, unified)] = [c for c in wechat.calls if c[0] == "/pay/unifiedorder"]
    assert unified["trade_type"] == "NATIVE" and unified["out_trade_no"] == data["payment_id"]
    assert "weixin://" not in payment["text"]
    image = await http.get(f"/pay/qr/{data['payment_id']}.svg")
    assert image.status == 200 and image.content_type == "image/svg+xml"

    # Alipay's signed notice naming the WeChat Pay payment changes nothing
    alipay.trades[data["payment_id"]] = f"{data['amount'] // 100}.{data['amount'] % 100:02d}"
    other = await http.post("/payments/alipay/notify", data=alipay.notification(data["payment_id"]))
    assert other.status == 400
    assert await status(runtime, number) == OrderStatus.PENDING_PAYMENT

    paid = await http.post(
        "/payments/wechatpay_native/notify", data=wechat.paid_notification(data["payment_id"])
    )
    assert paid.status == 200 and "SUCCESS" in await paid.text()
    assert await status(runtime, number) == OrderStatus.PAID
