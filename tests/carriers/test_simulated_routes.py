"""The simulated carrier keeps its routes in the database (R4.4-2, issue 13 "Carriers"): a parcel keeps
moving after a restart, and in a process other than the one that shipped it."""

from __future__ import annotations

from commerce_core.clock import FakeClock
from commerce_core.orders.types import LineRequest
from tests.carriers.conftest import StartRuntime
from tests.commerce.factory import ADDRESS


async def test_a_parcel_shipped_by_one_process_moves_in_another_and_after_a_restart(
    start_runtime: StartRuntime, clock: FakeClock
) -> None:
    shipping = await start_runtime()
    commerce = shipping.commerce
    shopper = await commerce.customers.identify("telegram", "7002", language="zh-Hans")
    order = await commerce.orders.place(shopper.id, ADDRESS, "sim", items=[LineRequest("D1-RED-M", 1)])
    await commerce.payments.sandbox_pay((await commerce.payments.start(order.number)).payment_id)
    parcel = await commerce.shipments.ship(order.number)  # the simulated carrier plans the route

    other = await start_runtime()  # another process: it never saw the parcel being created
    clock.advance(hours=200)  # long enough for any generated route to end in delivery
    assert await other.commerce.shipments.refresh(parcel.tracking_number) > 2
    moved = await other.commerce.shipments.parcel(parcel.tracking_number)
    assert moved.status == "delivered" and moved.events[0].status == "picked_up"

    restarted = await start_runtime()  # a fresh process after a restart sees the same journey
    assert await restarted.commerce.shipments.refresh(parcel.tracking_number) == 0  # nothing new, no repeat
    assert (await restarted.commerce.orders.get(order.number)).status == "delivered"
