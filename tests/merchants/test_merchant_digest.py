"""Many paid orders at once for one merchant become a digest, and none is lost or shown twice.

Requirements: R4.4-1 (a paid order notifies every merchant in it; notifications are retried, never
dropped, and many orders at once become a digest).
"""

from __future__ import annotations

from bot.channels.telegram.session import RecordingSession
from bot.infra.ratelimit import VirtualTimer
from bot.notifications.merchant_digest import OrderPacer
from bot.notifications.merchants import PaidOrderForMerchants, flush_merchant_digests
from bot.runtime import Runtime
from commerce_core.api import Commerce, PaymentCaptured
from commerce_core.orders.types import LineRequest
from tests.commerce.factory import ADDRESS
from tests.merchants.conftest import Team, bind

ACME_CHAT = "9101"


async def _paid_acme_order(commerce: Commerce, team: Team, key: str) -> str:
    order = await commerce.orders.place(team.shopper, ADDRESS, key, items=[LineRequest("D1-RED-M", 1)])
    await commerce.payments.sandbox_pay((await commerce.payments.start(order.number)).payment_id)
    return order.number


def _acme_texts(session: RecordingSession, since: int) -> list[str]:
    return [
        str(call.params.get("text"))
        for call in session.calls[since:]
        if call.method == "sendMessage" and call.chat_id == ACME_CHAT
    ]


async def test_a_burst_of_orders_becomes_one_digest_after_the_first_message(
    runtime: Runtime, commerce: Commerce, team: Team, session: RecordingSession
) -> None:
    await bind(commerce, team.owner_a, ACME_CHAT)
    clock = VirtualTimer(1000.0)
    subscriber = next(
        s
        for s in runtime.notifier.subscribers.of(PaymentCaptured.name)
        if isinstance(s, PaidOrderForMerchants)
    )
    subscriber.pacer = OrderPacer(runtime.container.redis, clock, window=2.0)
    numbers = [await _paid_acme_order(commerce, team, f"burst-{i}") for i in range(3)]
    before = len(session.calls)

    await runtime.relay_notifications()
    first = _acme_texts(session, before)
    assert len(first) == 1 and numbers[0] in first[0]  # the first order is told at once
    assert all(n not in first[0] for n in numbers[1:])

    assert await flush_merchant_digests(runtime.notifier) == 0  # the window is still closed
    clock.t += 2.5
    assert await flush_merchant_digests(runtime.notifier) == 1
    texts = _acme_texts(session, before)
    assert len(texts) == 2
    digest = texts[1]
    assert "2 new paid orders" in digest  # the owner reads English
    assert numbers[1] in digest and numbers[2] in digest

    clock.t += 5
    assert await flush_merchant_digests(runtime.notifier) == 0  # nothing left, nothing repeated
    await runtime.relay_notifications()
    everything = "\n".join(_acme_texts(session, before))
    assert [everything.count(n) for n in numbers] == [1, 1, 1]
