"""R4.1-3 (issue 14 rough edges): the shopper confirms receipt of a delivered order and reads an order's
status history, in three scripts; another shopper's order number gets nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.runtime import Runtime
from commerce_core.clock import FakeClock
from commerce_core.orders.types import LineRequest
from dialogs.texts import load_texts
from tests.commerce.factory import ADDRESS
from tests.dialogs.conftest import Chat

TEXTS = load_texts()
CONFIRM = {"zh-Hans": "确认收货", "zh-Hant": "確認收貨", "en": "I received my order"}
HISTORY = {"zh-Hans": "订单状态记录", "zh-Hant": "訂單狀態記錄", "en": "order status history"}


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant", "en"])
async def test_confirm_receipt_and_status_history(
    lang: str, chat_factory: Callable[..., Chat], runtime: Runtime, clock: FakeClock
) -> None:
    commerce = runtime.container.commerce
    user = f"receipt-{lang}"
    customer = await commerce.customers.identify("console", user, language=lang)
    order = await commerce.orders.place(customer.id, ADDRESS, "r", items=[LineRequest("D3-BLU-M", 1)])
    await commerce.payments.sandbox_pay((await commerce.payments.start(order.number)).payment_id)
    chat = chat_factory(user, lang)
    await chat.say(CONFIRM[lang])  # paid, not delivered yet: nothing changes
    assert TEXTS.get(lang, "receipt.not_delivered").split("{")[0] in chat.text, chat.text
    await commerce.shipments.ship(order.number)
    clock.advance(days=9)
    await commerce.shipments.refresh_open()
    assert (await commerce.orders.get(order.number)).status == "delivered"
    await chat.say(CONFIRM[lang])
    assert TEXTS.get(lang, "receipt.thanks", number=order.number) in chat.text, chat.text
    assert (await commerce.orders.get(order.number)).status == "completed"
    await chat.say(HISTORY[lang])
    for status in ("paid", "shipped", "delivered", "completed"):
        assert TEXTS.get(lang, f"status.{status}") in chat.text, (status, chat.text)
    stranger = chat_factory(f"stranger-{lang}", lang)
    await stranger.tap(f"hist:{order.number}")
    assert TEXTS.get(lang, f"status.{'shipped'}") not in stranger.text
    assert TEXTS.get(lang, "order.not_found", number=order.number) in stranger.text
