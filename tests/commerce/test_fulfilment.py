"""Shipments, tracking and delays; after-sales policy, SLA and refunds."""

from __future__ import annotations

from datetime import timedelta

import pytest

from commerce_core.after_sales.types import CaseItemRequest, CaseKind, CaseStatus
from commerce_core.app import Commerce
from commerce_core.clock import FakeClock
from commerce_core.errors import InvalidInput, PolicyViolation
from commerce_core.orders.types import LineRequest
from commerce_core.shipments.carrier import CarrierEvent
from tests.commerce.factory import ADDRESS, build_shop


async def paid_order(commerce: Commerce, customer_id: int, quantity: int = 2) -> str:
    order = await commerce.orders.place(customer_id, ADDRESS, "k", items=[LineRequest("D1-RED-M", quantity)])
    await commerce.payments.sandbox_pay((await commerce.payments.start(order.number)).payment_id)
    return order.number


async def delivered_order(commerce: Commerce, clock: FakeClock, customer_id: int) -> str:
    number = await paid_order(commerce, customer_id)
    shipment = await commerce.shipments.ship(number)
    clock.advance(days=15)
    await commerce.shipments.refresh(shipment.tracking_number)
    return number


async def test_tracking_timeline_moves_the_order_to_delivered(commerce: Commerce, clock: FakeClock) -> None:
    shop = await build_shop(commerce)
    number = await paid_order(commerce, shop.customer_id)
    shipment = await commerce.shipments.ship(number)
    assert shipment.destination == "上海" and shipment.eta and shipment.eta > clock.now()
    clock.advance(hours=10)
    await commerce.shipments.refresh(shipment.tracking_number)
    early = await commerce.shipments.track(number)
    assert early.events and early.events[0].status == "picked_up"
    clock.advance(days=15)
    await commerce.shipments.refresh(shipment.tracking_number)
    assert await commerce.shipments.refresh(shipment.tracking_number) == 0  # nothing new twice
    full = await commerce.shipments.track(number, customer_id=shop.customer_id)
    statuses = [e.status for e in full.events]
    assert statuses[0] == "picked_up" and "in_transit" in statuses and statuses[-1] == "delivered"
    assert all(e.description["zh-Hans"] and e.description["en"] for e in full.events)
    assert (await commerce.orders.get(number)).status == "delivered"


async def test_silence_from_the_carrier_is_flagged_once(commerce: Commerce, clock: FakeClock) -> None:
    shop = await build_shop(commerce)
    number = await paid_order(commerce, shop.customer_id)
    shipment = await commerce.shipments.ship(number)
    commerce.shipments.delay_after = timedelta(hours=48)
    clock.advance(hours=47)
    assert await commerce.shipments.detect_delays() == []
    clock.advance(hours=2)
    assert await commerce.shipments.detect_delays() == [shipment.tracking_number]
    assert await commerce.shipments.detect_delays() == []
    assert (await commerce.shipments.track(number)).delayed
    await commerce.shipments.apply_events(
        shipment.tracking_number,
        [CarrierEvent("manual-1", "in_transit", "南京", {"en": "scan"}, clock.now())],
    )
    assert not (await commerce.shipments.track(number)).delayed


async def test_return_within_window_refunds_when_resolved(commerce: Commerce, clock: FakeClock) -> None:
    shop = await build_shop(commerce)
    number = await delivered_order(commerce, clock, shop.customer_id)
    case = await commerce.after_sales.open(
        shop.customer_id,
        number,
        CaseKind.RETURN,
        [CaseItemRequest(1, 2)],
        reason_code="size_fit",
        reason_text="太小了",
        photos=["photo-1"],
    )
    assert case.number.startswith("AS") and case.status == "open"
    assert case.first_response_due_at == clock.now() + timedelta(hours=24)
    assert case.refund_amount == 2 * 19900
    with pytest.raises(InvalidInput):  # the same items cannot be claimed twice
        await commerce.after_sales.open(
            shop.customer_id, number, CaseKind.RETURN, [CaseItemRequest(1, 1)], reason_code="size_fit"
        )
    clock.advance(hours=25)
    assert await commerce.after_sales.overdue_first_response() == [case.number]
    await commerce.after_sales.transition(case.number, CaseStatus.ACCEPTED, actor="staff:amy")
    assert await commerce.after_sales.overdue_first_response() == []
    await commerce.after_sales.transition(
        case.number, CaseStatus.IN_PROGRESS, actor="staff:amy", note="收到退货"
    )
    done = await commerce.after_sales.transition(case.number, CaseStatus.RESOLVED, actor="staff:amy")
    assert [p["status"] for p in done.progress] == ["accepted", "in_progress", "resolved"]
    order = await commerce.orders.get(number)
    assert order.refunded.amount == 2 * 19900 and order.status == "refunded"


async def test_return_window_and_quality_problems(commerce: Commerce, clock: FakeClock) -> None:
    shop = await build_shop(commerce)
    number = await delivered_order(commerce, clock, shop.customer_id)
    clock.advance(days=8)
    with pytest.raises(PolicyViolation) as err:
        await commerce.after_sales.open(
            shop.customer_id, number, CaseKind.RETURN, [CaseItemRequest(1, 1)], reason_code="changed_mind"
        )
    assert err.value.code == "return_window_passed"
    quality = await commerce.after_sales.open(
        shop.customer_id, number, CaseKind.EXCHANGE, [CaseItemRequest(1, 1)], reason_code="quality_issue"
    )
    assert quality.quality_issue and quality.refund_amount == 0
    repair = await commerce.after_sales.open(
        shop.customer_id, number, CaseKind.REPAIR, [CaseItemRequest(1, 1)], reason_code="broken"
    )
    assert repair.kind == "repair"


async def test_after_sales_needs_a_delivered_order(commerce: Commerce) -> None:
    shop = await build_shop(commerce)
    number = await paid_order(commerce, shop.customer_id)
    with pytest.raises(PolicyViolation) as err:
        await commerce.after_sales.open(
            shop.customer_id, number, CaseKind.RETURN, [CaseItemRequest(1, 1)], reason_code="size_fit"
        )
    assert err.value.code == "not_delivered"
