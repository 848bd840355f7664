"""The web chat pays with WeChat Pay NATIVE in production: the ``code_url`` is drawn by us as a QR image
(never shown as text), and WeChat Pay's notice at the web chat's own notify URL pays the order once;
a notice signed MD5 while HMAC-SHA256 is configured changes nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio
import xmltodict
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from wechatpy.pay.utils import dict_to_xml

from bot.channels.wechat.pay import sign
from bot.http.app import create_app
from bot.runtime import Runtime
from commerce_core.api import FakeClock, OrderStatus
from tests.payments.production import chat, production_runtime
from tests.wechat.conftest import PAY_KEY, FakeWeChat, wechat_settings

Client = TestClient[web.Request, web.Application]
TYPED_ADDRESS = "张三 13812345678 上海市浦东新区世纪大道100号"


@pytest_asyncio.fixture
async def wechat() -> FakeWeChat:
    return FakeWeChat()


@pytest_asyncio.fixture
async def client(
    db_url: str, tmp_path: Path, clock: FakeClock, interpreter: Any, wechat: FakeWeChat
) -> AsyncIterator[tuple[Client, Runtime]]:
    http = httpx.AsyncClient(transport=httpx.MockTransport(wechat), base_url="https://api.mch.weixin.qq.com")
    # WeChat Pay configured for the merchant, no official account: the web chat offers its NATIVE QR
    settings = wechat_settings(token="", pay_base="https://api.mch.weixin.qq.com")
    runtime = await production_runtime(db_url, tmp_path, clock, interpreter, http=http, wechat=settings)
    try:
        async with TestClient(TestServer(create_app(runtime), host="127.0.0.1")) as test_client:
            yield test_client, runtime
    finally:
        await runtime.aclose()
        await http.aclose()


async def test_a_web_shopper_pays_by_scanning_a_wechat_pay_native_qr(
    client: tuple[Client, Runtime], wechat: FakeWeChat
) -> None:
    http, runtime = client
    user = "web-wxpay"
    await chat(http, user, text="有没有红色连衣裙", lang="zh-Hans")
    for payload in ("p:D1", "add:D1", "sku:D1-RED-L:1", "checkout"):
        await chat(http, user, payload=payload)
    await chat(http, user, text=TYPED_ADDRESS)
    [payment] = [r for r in await chat(http, user, payload="yes:checkout") if r["type"] == "payment"]
    data = payment["data"]
    assert data["provider"] == "wechatpay_native" and not payment["buttons"]
    [(_, unified)] = [c for c in wechat.calls if c[0] == "/pay/unifiedorder"]
    assert unified["trade_type"] == "NATIVE" and unified["out_trade_no"] == data["payment_id"]
    assert unified["notify_url"] == "https://shop.example/payments/wechatpay_native/notify"
    assert "weixin://" not in payment["text"]  # the code URL is not shown as text
    image = await http.get(f"/pay/qr/{data['payment_id']}.svg")
    assert image.status == 200 and image.content_type == "image/svg+xml"
    assert (await image.text()).startswith("<svg")

    body = wechat.paid_notification(data["payment_id"])
    fields = xmltodict.parse(body)["xml"]
    md5 = {k: v for k, v in fields.items() if k not in ("sign", "sign_type")} | {"sign_type": "MD5"}
    md5_notice = dict_to_xml(md5, sign(md5, PAY_KEY, "MD5")).encode()
    refused = await http.post("/payments/wechatpay_native/notify", data=md5_notice)
    assert refused.status == 400 and "FAIL" in await refused.text()
    commerce = runtime.container.commerce
    assert (await commerce.orders.get(data["order_number"])).status == OrderStatus.PENDING_PAYMENT

    paid = await http.post("/payments/wechatpay_native/notify", data=body)
    assert paid.status == 200 and "SUCCESS" in await paid.text()
    assert (await http.post("/payments/wechatpay_native/notify", data=body)).status == 200  # a retry
    assert (await commerce.orders.get(data["order_number"])).status == OrderStatus.PAID
    assert (await http.get(f"/pay/qr/{data['payment_id']}.svg")).status == 404
