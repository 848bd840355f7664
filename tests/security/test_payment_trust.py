"""Issue 11, findings 1, 12 and 13 (payments), each as a user or attacker would meet it:

1. production has no sandbox: no routes, no "pay (sandbox)" button, the core refuses ``sandbox_pay``;
   production without a real provider is a configuration error that names everything missing;
12. a signed fractional amount is refused, not truncated; a WeChat Pay notice signed MD5 while
    HMAC-SHA256 is configured is refused;
13. a production web chat shopper pays with Alipay: a QR image served by us, and Alipay's signed
    notification pays the order (SQLite and PostgreSQL).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from wechatpy.pay.utils import dict_to_xml

from bot.channels.wechat.pay import WeChatPayProvider, sign
from bot.channels.wechat.settings import WeChatSettings
from bot.http.app import create_app
from bot.payments.settings import PaymentSettings
from bot.runtime import Runtime
from bot.settings import BackofficeSettings, ConfigurationError, load_settings
from commerce_core.api import (
    Commerce,
    FakeClock,
    LineRequest,
    NotFound,
    OrderStatus,
    PaymentRejected,
)
from commerce_core.payments.sandbox import SandboxProvider
from tests.commerce.factory import ADDRESS, build_shop
from tests.conftest import TEST_KEYS
from tests.payments.fake_alipay import FakeAlipay
from tests.payments.production import chat, production_runtime, session_headers

Client = TestClient[web.Request, web.Application]
TYPED_ADDRESS = "张三 13812345678 上海市浦东新区世纪大道100号"


@pytest.fixture(scope="module")
def fake() -> FakeAlipay:
    return FakeAlipay()


@pytest_asyncio.fixture
async def production(
    db_url: str, tmp_path: Path, clock: FakeClock, interpreter: Any, fake: FakeAlipay
) -> AsyncIterator[Runtime]:
    """The bot as production runs it, Alipay (the local fake) its one provider."""
    runtime = await production_runtime(
        db_url, tmp_path, clock, interpreter, http=fake.client, payments=PaymentSettings(alipay=fake.settings)
    )
    try:
        yield runtime
    finally:
        await runtime.aclose()


@pytest_asyncio.fixture
async def client(production: Runtime) -> AsyncIterator[Client]:
    async with TestClient(TestServer(create_app(production), host="127.0.0.1")) as test_client:
        yield test_client


async def checkout(client: Client, user: str) -> dict[str, Any]:
    """Search to a placed order through the web chat API; returns the payment reply."""
    await chat(client, user, text="有没有红色连衣裙", lang="zh-Hans")
    await chat(client, user, payload="p:D1")
    await chat(client, user, payload="add:D1")
    await chat(client, user, payload="sku:D1-RED-L:1")
    await chat(client, user, payload="checkout")
    await chat(client, user, text=TYPED_ADDRESS)
    replies = await chat(client, user, payload="yes:checkout")
    [payment] = [r for r in replies if r["type"] == "payment"]
    return payment


# -- finding 1: free orders in production ------------------------------------------------------------
async def test_production_has_no_sandbox_routes_buttons_or_core_payment(
    client: Client, production: Runtime
) -> None:
    payment = await checkout(client, "prod-shopper")
    payment_id = payment["data"]["payment_id"]
    assert payment["data"]["provider"] == "alipay"
    assert not any("sbx" in b["payload"] or "sandbox" in b["payload"] for b in payment["buttons"])
    assert "sandbox" not in json.dumps(payment, ensure_ascii=False).lower()
    assert (await client.post(f"/sandbox/pay/{payment_id}")).status == 404
    assert (await client.get(f"/sandbox/pay/{payment_id}")).status == 404
    assert (await client.post("/payments/sandbox/notify", data=b"{}")).status == 404
    # the old button's payload, sent by hand, pays nothing
    await chat(client, "prod-shopper", payload=f"sbxpay:{payment_id}")
    commerce = production.container.commerce
    with pytest.raises(NotFound) as refused:
        await commerce.payments.sandbox_pay(payment_id)
    assert refused.value.code == "payment_not_found"
    number = payment["data"]["order_number"]
    assert (await commerce.orders.get(number)).status == OrderStatus.PENDING_PAYMENT


def test_production_without_a_provider_names_everything_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SHOPBOT_ENV", "production")
    monkeypatch.setenv("SHOPBOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SHOPBOT_ALIPAY_APP_ID", "2021000000000001")  # half an Alipay configuration
    with pytest.raises(ConfigurationError) as err:
        load_settings()
    message = str(err.value)
    for expected in (
        "SHOPBOT_DATABASE_URL",
        "SHOPBOT_ENCRYPTION_KEYS",
        "SHOPBOT_BLIND_INDEX_KEY",
        "SHOPBOT_BACKOFFICE_SECRET",
        "SHOPBOT_REDIS_URL",
        "production needs a real payment provider",
        "SHOPBOT_ALIPAY_PRIVATE_KEY",
        "SHOPBOT_ALIPAY_PUBLIC_KEY",
    ):
        assert expected in message, expected
    monkeypatch.setenv("SHOPBOT_PAYMENTS_SANDBOX", "true")
    with pytest.raises(ConfigurationError, match="production has no sandbox payments"):
        load_settings()


def test_production_with_a_real_provider_has_no_payment_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake: FakeAlipay
) -> None:
    settings = load_settings(
        env="production",
        data_dir=tmp_path,
        database_url="postgresql+asyncpg://shop@db/shop",
        redis_url="redis://cache:6379/0",
        encryption_keys=TEST_KEYS[0],
        blind_index_key=secrets.token_hex(32),  # production refuses weak secrets (finding 11)
        public_base_url="https://shop.example",
        backoffice=BackofficeSettings(secret=secrets.token_urlsafe(40)),
        payments=PaymentSettings(alipay=fake.settings),
    )
    assert not settings.sandbox_payments and settings.web_payment_provider == "alipay"


# -- finding 13: production web shoppers pay with Alipay, shown as a QR image ------------------------
async def test_a_production_web_shopper_pays_by_scanning_an_alipay_qr_image(
    client: Client, production: Runtime, fake: FakeAlipay
) -> None:
    payment = await checkout(client, "prod-alipay")
    payment_id, number = payment["data"]["payment_id"], payment["data"]["order_number"]
    image = await client.get(f"/pay/qr/{payment_id}.svg")
    assert image.status == 200 and image.content_type == "image/svg+xml"
    assert (await image.text()).startswith("<svg") and "qr.alipay.com" not in await image.text()
    assert (await client.get("/pay/qr/PYNOSUCHPAYMENT.svg")).status == 404
    assert (await client.get("/pay/qr/..%2Fsecrets.svg")).status == 404
    forged = await client.post("/payments/alipay/notify", data=fake.notification(payment_id, amount="0.01"))
    assert forged.status == 400
    paid = await client.post("/payments/alipay/notify", data=fake.notification(payment_id))
    assert paid.status == 200 and await paid.text() == "success"
    again = await client.post("/payments/alipay/notify", data=fake.notification(payment_id))
    assert again.status == 200  # Alipay retries until "success": a repeat is answered, not re-applied
    assert (await production.container.commerce.orders.get(number)).status == OrderStatus.PAID
    assert (await client.get(f"/pay/qr/{payment_id}.svg")).status == 404  # paid: nothing to scan
    # the inbox belongs to the web session, not to a name the client sends
    session = session_headers(client, "prod-alipay")
    pushed = (await (await client.get("/api/inbox", headers=session)).json())["replies"]
    assert any(number in r["text"] for r in pushed)


# -- finding 12: loose payment parsing ----------------------------------------------------------------
async def placed(commerce: Commerce) -> tuple[str, str, int]:
    shop = await build_shop(commerce)
    order = await commerce.orders.place(shop.customer_id, ADDRESS, "k", items=[LineRequest("D1-RED-L", 1)])
    request = await commerce.payments.start(order.number, customer_id=shop.customer_id)
    return order.number, request.payment_id, order.total.amount


@pytest.mark.parametrize("fraction", [0.9, "0.9", ".5"])
async def test_a_signed_fractional_amount_is_refused_not_truncated(
    commerce: Commerce, fraction: float | str
) -> None:
    number, payment, total = await placed(commerce)
    sandbox = commerce.payments.provider("sandbox")
    assert isinstance(sandbox, SandboxProvider)
    ref, _, currency = sandbox.intents[payment]
    amount = total + fraction if isinstance(fraction, float) else f"{total}{fraction}"
    body, headers = sandbox.build_notification(
        reference=payment,
        provider_ref=ref,
        amount=amount,
        currency=currency,  # type: ignore[arg-type]
    )
    with pytest.raises(PaymentRejected) as refused:
        await commerce.payments.handle_notification("sandbox", body, headers)
    assert refused.value.code == "malformed_notification"
    assert (await commerce.orders.get(number)).status == OrderStatus.PENDING_PAYMENT


WECHAT = WeChatSettings(app_id="wxapp", pay_mch_id="1900000109", pay_api_key="k" * 32)


def wechat_notice(*, sign_type: str | None, total_fee: str = "19900", key: str = "k" * 32) -> bytes:
    fields = {
        "return_code": "SUCCESS",
        "result_code": "SUCCESS",
        "appid": "wxapp",
        "mch_id": "1900000109",
        "nonce_str": "abcdef0123456789",
        "out_trade_no": "PY0000000001",
        "transaction_id": "4200000001",
        "total_fee": total_fee,
        "fee_type": "CNY",
    }
    if sign_type is not None:
        fields["sign_type"] = sign_type
    return dict_to_xml(fields, sign(fields, key, sign_type or "MD5")).encode()  # type: ignore[no-any-return]


def wechat_provider(settings: WeChatSettings = WECHAT) -> WeChatPayProvider:
    return WeChatPayProvider(settings, None, None)  # type: ignore[arg-type]  # verifying needs no I/O


@pytest.mark.parametrize("sign_type", ["MD5", None])
def test_wechat_pay_refuses_an_md5_notice_when_hmac_is_configured(sign_type: str | None) -> None:
    with pytest.raises(PaymentRejected) as refused:
        wechat_provider().verify_notification(wechat_notice(sign_type=sign_type), {})
    assert refused.value.code == "bad_signature"
    accepted = wechat_provider().verify_notification(wechat_notice(sign_type="HMAC-SHA256"), {})
    assert accepted.amount == 19900 and accepted.kind == "succeeded"
    md5_shop = wechat_provider(WECHAT.model_copy(update={"pay_sign_type": "MD5"}))
    assert md5_shop.verify_notification(wechat_notice(sign_type="MD5"), {}).amount == 19900
    with pytest.raises(PaymentRejected):  # and the other way round
        md5_shop.verify_notification(wechat_notice(sign_type="HMAC-SHA256"), {})


@pytest.mark.parametrize("total_fee", ["25900.9", "25900.0", "-1", "２５９００", "1e4", ""])
def test_wechat_pay_refuses_an_amount_that_is_not_whole_fen(total_fee: str) -> None:
    with pytest.raises(PaymentRejected) as refused:
        wechat_provider().verify_notification(wechat_notice(sign_type="HMAC-SHA256", total_fee=total_fee), {})
    assert refused.value.code == "malformed_notification"


def test_no_channel_may_name_the_sandbox_in_production(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SHOPBOT_ENV", "production")
    monkeypatch.setenv("SHOPBOT_TELEGRAM_BOT_TOKEN", "123456:ABCDEF")
    monkeypatch.setenv("SHOPBOT_TELEGRAM_PAYMENTS", "sandbox")
    monkeypatch.setenv("SHOPBOT_PAYMENTS_WEB", "sandbox")
    with pytest.raises(ConfigurationError) as err:
        load_settings(data_dir=tmp_path)
    assert "SHOPBOT_TELEGRAM_PAYMENTS=sandbox" in str(err.value)
    assert "SHOPBOT_PAYMENTS_WEB=sandbox, but the sandbox is off here" in str(err.value)


def test_development_names_a_web_provider_that_is_not_configured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SHOPBOT_PAYMENTS_WEB", "alipay")
    with pytest.raises(ConfigurationError, match="SHOPBOT_PAYMENTS_WEB=alipay needs the SHOPBOT_ALIPAY_"):
        load_settings(data_dir=tmp_path)
    monkeypatch.setenv("SHOPBOT_PAYMENTS_WEB", "sandbox")
    settings = load_settings(data_dir=tmp_path)
    assert settings.sandbox_payments and settings.web_payment_provider == "sandbox"
