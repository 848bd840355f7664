"""After-sales in three scripts, one per language, as the shopper lives them in the chat (console
channel, the real pipeline, NLU and outbox): staff and merchant act on the case, the shopper hears of
every step in their own language, asks how it is going and gets the status and the next step.

Requirements: R5.4-1 (24-hour answer, policy, repairs with progress notifications), R4.4-2 (the return
parcel tracked like any shipment), R7.1-3 (every staff action audited), R5.4-2 (the 1-5 rating).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.runtime import Runtime
from commerce_core.api import Actor, AuditFilter, CaseKind, FakeClock, InvalidInput, NotAllowed, OperatorRole
from commerce_core.shipments.carrier import CarrierEvent
from tests.dialogs.conftest import Chat
from tests.staff.desk.conftest import buttons, delivered, open_case, pushed, staff, texts

RETURNS_ADDRESS = "杭州市余杭区文一西路 88 号 极客商店售后部"


async def test_zh_hans_return_accepted_parcel_tracked_refunded_and_rated(
    chat_factory: Callable[..., Chat], runtime: Runtime, clock: FakeClock
) -> None:
    """zh-Hans: the merchant accepts a return within the policy and gives its address; the shopper
    enters the parcel in the chat; it is tracked; staff refund in full; the shopper is told, asks
    "我的退货怎么样了", and rates the closed case."""
    commerce = runtime.commerce
    shop = await delivered(runtime, clock, "hans", "zh-Hans")
    agent = await staff(commerce, "amy@example.com", OperatorRole.AGENT, "zh-Hans", "agent-amy")
    acme = (await commerce.merchants.get("acme")).id
    case = await open_case(commerce, shop, CaseKind.RETURN)
    chat = chat_factory("hans", "zh-Hans")

    await chat.say("我的退货怎么样了")
    assert case.number in chat.text and "等待客服处理" in chat.text and "下一步" in chat.text

    owner = Actor("merchant-owner", "127.0.0.1")
    await commerce.case_parties.merchant_accept(acme, case.number, owner, returns_address=RETURNS_ADDRESS)
    told = await pushed(runtime, "hans")
    assert "已受理" in texts(told) and RETURNS_ADDRESS in texts(told)
    [button] = buttons(told)
    await chat.tap(button)
    assert "快递" in chat.text
    await chat.say("顺丰 SF1234567890123")
    assert "SF1234567890123" in chat.text and "已记录" in chat.text

    # tracked like any shipment: the carrier's scans arrive and show in the status answer
    when = clock.now()
    await commerce.shipments.apply_events(
        "SF1234567890123", [CarrierEvent("r1", "in_transit", "杭州", {"zh-Hans": "运输中"}, when)]
    )
    await chat.say("我的退货怎么样了")
    assert "SF1234567890123" in chat.text and "运输中" in chat.text
    await commerce.shipments.apply_events(
        "SF1234567890123", [CarrierEvent("r2", "delivered", "杭州", {"zh-Hans": "签收"}, when)]
    )
    assert await runtime.tick() and (await commerce.cases.case(case.number)).return_received_at is not None
    await pushed(runtime, "hans")

    refunded = await commerce.cases.refund(case.number, Actor(agent.public_id, "10.0.0.7"))
    assert refunded.status == "resolved" and refunded.refunded == 2 * 19900
    order = await commerce.orders.get(shop.order_number)
    assert order.refunded.amount == 2 * 19900
    told = texts(await pushed(runtime, "hans"))
    assert "全额退款 ¥398.00" in told

    await commerce.cases.close(case.number, Actor(agent.public_id, None))
    closed = await pushed(runtime, "hans")
    assert "打分" in texts(closed)
    stars = buttons(closed)
    assert len(stars) == 5
    await chat.tap(stars[3])  # four stars
    assert "4/5" in chat.text
    assert (await commerce.cases.case(case.number)).rating == 4

    audit = await commerce.operators.audit_log(
        AuditFilter(object_type="after_sales_case", object_id=case.number), limit=50
    )
    assert {"case.merchant_accept", "case.refund", "case.close"} <= {a.action for a in audit}
    assert any(a.actor_email == "amy@example.com" and a.ip == "10.0.0.7" for a in audit)


async def test_zh_hant_repair_stages_are_pushed_and_the_status_answered(
    chat_factory: Callable[..., Chat], runtime: Runtime, clock: FakeClock
) -> None:
    """zh-Hant: a repair goes received -> diagnosing -> repairing -> shipped back; each stage reaches
    the shopper, "我的維修怎麼樣了" answers with the stage, and a stage never goes backwards."""
    commerce = runtime.commerce
    shop = await delivered(runtime, clock, "hant", "zh-Hant", sku="H1-BLK", quantity=1)
    agent = Actor(
        (await staff(commerce, "bo@example.com", OperatorRole.AGENT, "en", "agent-bo")).public_id, None
    )
    case = await open_case(commerce, shop, CaseKind.REPAIR, reason="broken", quantity=1)
    chat = chat_factory("hant", "zh-Hant")

    await commerce.cases.accept(case.number, agent)
    assert "已受理" in texts(await pushed(runtime, "hant"))
    expected = {
        "received": "維修商品已收到",
        "diagnosing": "正在檢測",
        "repairing": "正在維修中",
        "shipped_back": "已寄回給您",
    }
    for stage, words in expected.items():
        await commerce.cases.repair(case.number, agent, stage=stage)
        told = texts(await pushed(runtime, "hant"))
        assert case.number in told and words in told, (stage, told)
        if stage == "diagnosing":
            await chat.say("我的維修怎麼樣了")
            assert "檢測中" in chat.text and case.number in chat.text
            with pytest.raises(NotAllowed) as refused:
                await commerce.cases.repair(case.number, agent, stage="received")
            assert refused.value.code == "stage_passed"
    assert (await commerce.cases.case(case.number)).status == "resolved"


async def test_en_exchange_ships_the_wanted_size_and_partial_refunds_are_bounded(
    chat_factory: Callable[..., Chat], runtime: Runtime, clock: FakeClock
) -> None:
    """en: an exchange records the wanted size; the replacement ships through the merchant's
    fulfilment once the return arrives; a partial refund never exceeds what was paid."""
    commerce = runtime.commerce
    shop = await delivered(runtime, clock, "eng", "en")
    agent = Actor(
        (await staff(commerce, "cy@example.com", OperatorRole.AGENT, "en", "agent-cy")).public_id, None
    )
    case = await open_case(commerce, shop, CaseKind.EXCHANGE, quantity=1)
    chat = chat_factory("eng", "en")

    await commerce.cases.exchange(case.number, agent, sku_code="D1-RED-L")
    told = texts(await pushed(runtime, "eng"))
    assert "red / L" in told and case.number in told
    received = await commerce.cases.receive_return(case.number, agent)
    assert received.replacement_tracking and received.wanted_sku == "D1-RED-L"
    parcels = await commerce.shipments.parcels(shop.order_number)
    assert parcels[-1].tracking_number == received.replacement_tracking
    assert parcels[-1].merchant_id == (await commerce.merchants.get("acme")).id
    told = texts(await pushed(runtime, "eng"))
    assert "replacement is on its way" in told and received.replacement_tracking in told

    await chat.say("how is my exchange going")
    assert case.number in chat.text and received.replacement_tracking in chat.text

    # partial refunds: never more than the items cost, never more than was paid, never twice over
    refund_case = await open_case(commerce, shop, CaseKind.RETURN, reason="quality_issue", quantity=1)
    with pytest.raises(NotAllowed):
        await commerce.cases.refund(refund_case.number, agent, amount=1000)  # not accepted yet
    await commerce.cases.accept(refund_case.number, agent)
    for too_much in (19901, 0, -5):
        with pytest.raises(InvalidInput) as err:
            await commerce.cases.refund(refund_case.number, agent, amount=too_much)
        assert err.value.code in ("refund_too_large", "invalid_amount")
    partial = await commerce.cases.refund(refund_case.number, agent, amount=5000)
    assert partial.refunded == 5000 and partial.status == "resolved"
    assert (await commerce.orders.get(shop.order_number)).refunded.amount == 5000
    assert "partial refund of ¥50.00" in texts(await pushed(runtime, "eng"))
