"""Fulfilment per merchant: each merchant in an order ships its own parcel, the order is shipped when
the last part has gone and delivered when the last parcel arrives; the simulated carrier's routes live
in the database, so a parcel keeps moving for a new process on the same database."""

from __future__ import annotations

import pytest

from commerce_core.api import Commerce, CommerceConfig, FakeClock, InvalidInput, NotAllowed, NotFound
from commerce_core.db.engine import create_engine
from commerce_core.merchants.types import MerchantStatus
from commerce_core.shipments.carrier import CarrierEvent
from tests.commerce.factory import ADDRESS, names
from tests.conftest import TEST_KEYS
from tests.merchants.conftest import Team, paid_two_merchant_order


async def two_merchant_order(commerce: Commerce, team: Team) -> tuple[str, int, int]:
    """A paid order with a dress from acme and a wrench from bolt; returns (number, acme id, bolt id)."""
    return await paid_two_merchant_order(commerce, team), team.acme, team.bolt


async def test_two_merchants_make_two_shipments(team: Team, commerce: Commerce, clock: FakeClock) -> None:
    number, acme, bolt = await two_merchant_order(commerce, team)
    first = await commerce.shipments.ship(number, merchant_id=acme)
    assert first.merchant_id == acme
    assert (await commerce.orders.get(number)).status == "paid"  # bolt's part still waits
    assert await commerce.shipments.unshipped_merchants(number) == [bolt]
    with pytest.raises(NotAllowed) as twice:
        await commerce.shipments.ship(number, merchant_id=acme)
    assert twice.value.code == "already_shipped"

    second = await commerce.shipments.ship(
        number, merchant_id=bolt, carrier="SF Express", tracking_number="SF1234567"
    )
    assert (second.carrier, second.tracking_number, second.merchant_id) == ("SF Express", "SF1234567", bolt)
    assert (await commerce.orders.get(number)).status == "shipped"
    parcels = await commerce.shipments.parcels(number)
    assert [p.merchant_id for p in parcels] == [acme, bolt]
    bolts = await commerce.shipments.parcels(number, merchant_id=bolt)
    assert [p.tracking_number for p in bolts] == ["SF1234567"]

    clock.advance(days=15)
    await commerce.shipments.refresh_open()  # the merchant's own carrier has no gateway: skipped, no error
    assert (await commerce.shipments.parcel(first.tracking_number)).status == "delivered"
    assert (await commerce.orders.get(number)).status == "shipped"  # bolt's parcel has not arrived
    arrived = CarrierEvent("sf-1", "delivered", "上海", {"en": "Delivered"}, clock.now())
    await commerce.shipments.apply_events("SF1234567", [arrived])
    assert (await commerce.orders.get(number)).status == "delivered"


async def test_a_merchant_cannot_ship_what_is_not_theirs(team: Team, commerce: Commerce) -> None:
    number, acme, bolt = await two_merchant_order(commerce, team)
    stranger = await commerce.merchants.register("zeta", names("泽塔", "Zeta"), status=MerchantStatus.ACTIVE)
    with pytest.raises(NotFound):
        await commerce.shipments.ship(number, merchant_id=stranger.id)
    with pytest.raises(InvalidInput) as bad:
        await commerce.shipments.ship(number, merchant_id=acme, carrier="SF", tracking_number="no spaces!")
    assert bad.value.code == "tracking_invalid"
    with pytest.raises(NotFound):
        await commerce.shipments.ship(number, merchant_id=acme, carrier="no-such-gateway")
    assert await commerce.shipments.unshipped_merchants(number) == [acme, bolt]


async def test_parcels_keep_moving_for_a_new_process(
    team: Team, commerce: Commerce, clock: FakeClock, db_url: str
) -> None:
    number, acme, _ = await two_merchant_order(commerce, team)
    parcel = await commerce.shipments.ship(number, merchant_id=acme)
    config = CommerceConfig(
        encryption_keys=TEST_KEYS,
        blind_index_key="test-index-key",
        sandbox_payment_secret="test-sandbox-secret-123",
    )
    restarted = Commerce.build(create_engine(db_url), config, clock=clock)  # knows nothing in memory
    try:
        clock.advance(days=15)
        assert await restarted.shipments.refresh(parcel.tracking_number) > 0
        moved = await restarted.shipments.parcel(parcel.tracking_number)
        assert moved.status == "delivered" and moved.events[0].status == "picked_up"
        # the first process sees the same timeline: nothing new to apply
        assert await commerce.shipments.refresh(parcel.tracking_number) == 0
    finally:
        await restarted.close()


async def test_once_a_part_has_shipped_the_order_cannot_be_cancelled_or_readdressed(
    team: Team, commerce: Commerce
) -> None:
    number, acme, _ = await two_merchant_order(commerce, team)
    customer_id = (await commerce.orders.get(number)).customer_id
    await commerce.shipments.ship(number, merchant_id=acme)
    with pytest.raises(NotAllowed) as refused:
        await commerce.orders.cancel(number, actor="customer", reason="no", customer_id=customer_id)
    assert refused.value.code == "order_not_cancellable"
    with pytest.raises(NotAllowed) as locked:
        await commerce.orders.change_address(number, customer_id, ADDRESS)
    assert locked.value.code == "address_locked"
