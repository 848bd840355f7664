"""The demo's merchants ship paid orders by themselves after a few seconds (a setting), so the whole
life cycle can be watched: shipped, moving, delivered, returnable."""

from __future__ import annotations

import pytest

from bot.auto_ship import auto_ship
from bot.cli.serve import demo_settings
from commerce_core.api import Commerce, FakeClock
from tests.merchants.conftest import Team, paid_two_merchant_order


async def test_paid_orders_ship_after_the_setting_and_then_reach_the_shopper(
    commerce: Commerce, clock: FakeClock, team: Team
) -> None:
    number = await paid_two_merchant_order(commerce, team)
    assert await auto_ship(commerce, 0) == []  # off
    clock.advance(seconds=3)
    assert await auto_ship(commerce, 5) == []  # not yet
    clock.advance(seconds=3)
    assert await auto_ship(commerce, 5) == [number, number]  # one parcel per merchant
    assert (await commerce.orders.get(number)).status == "shipped"
    assert await auto_ship(commerce, 5) == []  # never twice
    clock.advance(days=15)
    await commerce.shipments.refresh_open()
    assert (await commerce.orders.get(number)).status == "delivered"


def test_the_demo_turns_auto_ship_on_and_the_setting_turns_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHOPBOT_AUTO_SHIP_AFTER_SECONDS", raising=False)
    assert demo_settings().auto_ship_after_seconds == 5
    monkeypatch.setenv("SHOPBOT_AUTO_SHIP_AFTER_SECONDS", "0")
    assert demo_settings().auto_ship_after_seconds == 0
