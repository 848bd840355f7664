"""Alipay on python-alipay-sdk against a local fake: RSA2-signed requests, answers and notifications
verified with Alipay's public key, amount/currency/out_trade_no checked, applied once (SQLite and
PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bot.payments.alipay import AlipayProvider, fen, yuan
from commerce_core.api import Commerce, LineRequest, OrderStatus, PaymentRejected
from tests.commerce.factory import ADDRESS, build_shop
from tests.payments.fake_alipay import FakeAlipay


@pytest.fixture(scope="module")
def fake() -> FakeAlipay:
    return FakeAlipay()  # RSA key generation is the slow part: once per module


@pytest_asyncio.fixture
async def alipay(commerce: Commerce, fake: FakeAlipay) -> AsyncIterator[AlipayProvider]:
    provider = AlipayProvider(fake.settings, "https://shop.example", fake.client)
    commerce.payments.register(provider)
    yield provider


async def order_paid_by_alipay(commerce: Commerce) -> tuple[str, str, int]:
    shop = await build_shop(commerce)
    order = await commerce.orders.place(shop.customer_id, ADDRESS, "k", items=[LineRequest("D1-RED-L", 1)])
    request = await commerce.payments.start(order.number, customer_id=shop.customer_id, provider="alipay")
    return order.number, request.payment_id, order.total.amount


async def test_a_payment_gets_an_alipay_qr_code_through_a_signed_request(
    commerce: Commerce, alipay: AlipayProvider, fake: FakeAlipay
) -> None:
    number, payment, total = await order_paid_by_alipay(commerce)
    method, biz = fake.calls[-1]
    assert method == "alipay.trade.precreate" and biz["out_trade_no"] == payment
    assert biz["total_amount"] == yuan(total) and fen(biz["total_amount"]) == total
    again = await commerce.payments.start(number, provider="alipay")  # the same pending payment
    assert (
        again.payment_id == payment and again.pay_url and again.pay_url.startswith("https://qr.alipay.com/")
    )


async def test_a_signed_notification_pays_the_order_once(
    commerce: Commerce, alipay: AlipayProvider, fake: FakeAlipay
) -> None:
    number, payment, _ = await order_paid_by_alipay(commerce)
    body = fake.notification(payment)
    first = await commerce.payments.handle_notification("alipay", body, {})
    assert first.outcome == "captured" and first.order_number == number
    replay = await commerce.payments.handle_notification("alipay", body, {})
    assert replay.outcome == "duplicate"
    assert (await commerce.orders.get(number)).status == OrderStatus.PAID


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"amount": "0.01"}, "amount_mismatch"),  # signed, but not what the order costs
        ({"amount": "199.001"}, "malformed_notification"),  # a fraction of a fen is not rounded away
        ({"app_id": "2021999999999999"}, "bad_signature"),  # signed, but for another merchant's app
        ({"status": "WAIT_BUYER_PAY"}, "malformed_notification"),  # not an outcome
    ],
)
async def test_notifications_that_do_not_fit_the_payment_change_nothing(
    commerce: Commerce, alipay: AlipayProvider, fake: FakeAlipay, change: dict[str, str], code: str
) -> None:
    number, payment, _ = await order_paid_by_alipay(commerce)
    with pytest.raises(PaymentRejected) as refused:
        await commerce.payments.handle_notification("alipay", fake.notification(payment, **change), {})
    assert refused.value.code == code
    assert (await commerce.orders.get(number)).status == OrderStatus.PENDING_PAYMENT


async def test_a_tampered_or_unsigned_notification_is_refused(
    commerce: Commerce, alipay: AlipayProvider, fake: FakeAlipay
) -> None:
    number, payment, _ = await order_paid_by_alipay(commerce)
    body = fake.notification(payment)
    tampered = body.replace(b"TRADE_SUCCESS", b"TRADE_FINISHED")
    unsigned = b"&".join(p for p in body.split(b"&") if not p.startswith(b"sign="))
    rsa1 = body.replace(b"sign_type=RSA2", b"sign_type=RSA")
    for forged in (tampered, unsigned, rsa1, b"\xff\xfe", b"a=1&&&"):
        with pytest.raises(PaymentRejected) as refused:
            await commerce.payments.handle_notification("alipay", forged, {})
        assert refused.value.code in ("bad_signature", "malformed_notification")
    assert (await commerce.orders.get(number)).status == OrderStatus.PENDING_PAYMENT


async def test_an_answer_with_a_forged_signature_is_refused(
    commerce: Commerce, alipay: AlipayProvider, fake: FakeAlipay
) -> None:
    _, payment, _ = await order_paid_by_alipay(commerce)
    original = fake.answer
    fake.answer = lambda method, content, sign=True: original(method, content, sign=False)  # type: ignore[method-assign]
    try:
        with pytest.raises(PaymentRejected) as refused:
            await alipay.query(payment)
    finally:
        fake.answer = original  # type: ignore[method-assign]
    assert refused.value.code == "bad_signature"


async def test_query_and_refund_go_through_the_gateway(
    commerce: Commerce, alipay: AlipayProvider, fake: FakeAlipay
) -> None:
    _, payment, total = await order_paid_by_alipay(commerce)
    assert await alipay.query(payment) is None  # still waiting for the buyer
    fake.status[payment] = "TRADE_SUCCESS"
    assert await alipay.query(payment) == "succeeded"
    refund = await alipay.refund(payment, total, "CNY", "RF1")
    assert refund.succeeded
    assert fake.calls[-1] == (
        "alipay.trade.refund",
        {"out_trade_no": payment, "refund_amount": yuan(total), "out_request_no": "RF1"},
    )


@pytest.mark.parametrize("text", ["259.001", "259.9.9", "-1.00", "", "１２", "1e3", " 1.00"])
def test_only_exact_yuan_amounts_are_read(text: str) -> None:
    with pytest.raises(ValueError):
        fen(text)
    assert fen("259.9") == 25990 and fen("259.09") == 25909 and fen("0.01") == 1 and fen("12") == 1200
