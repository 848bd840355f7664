"""The demo's merchants ship paid orders by themselves after a few seconds (a setting), so the whole
life cycle can be watched: shipped, moving, delivered, returnable."""

from __future__ import annotations

import pytest

from bot.auto_ship import auto_ship
from bot.cli.serve import demo_settings
from bot.runtime import Runtime
from commerce_core.api import Commerce, FakeClock
from dialogs.messages import InboundMessage
from tests.merchants.conftest import SHOPPER_CHAT, Team, paid_two_merchant_order


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


async def test_the_readme_script_reaches_tracking_and_returns_with_auto_ship(
    runtime: Runtime, clock: FakeClock, team: Team
) -> None:
    """ "where is my order?" shows a moving parcel and "我要退货" works after delivery, with nobody shipping
    by hand: the background jobs of a runtime whose settings turn auto-ship on do it."""
    settings = runtime.container.settings.model_copy(update={"auto_ship_after_seconds": 5.0})
    runtime.container.settings = settings
    commerce = runtime.commerce
    number = await paid_two_merchant_order(commerce, team)

    async def say(text: str) -> str:
        message = InboundMessage("telegram", SHOPPER_CHAT, SHOPPER_CHAT, text=text)
        replies = await runtime.pipeline.handle(message)
        return "\n".join(str(getattr(r, "text", "")) + str(getattr(r, "title", "")) for r in replies)

    clock.advance(seconds=6)
    figures = await runtime.tick()
    assert figures["auto_shipped"] == 2 and (await commerce.orders.get(number)).status == "shipped"
    clock.advance(hours=9)  # every route is picked up within 8 h and takes at least 19 h to arrive
    await runtime.tick()
    moving = await commerce.shipments.track(number)
    assert moving.events and moving.status != "delivered"
    answer = await say("我的订单到哪了")
    assert number in answer or moving.tracking_number in answer
    clock.advance(days=15)
    await runtime.tick()
    assert (await commerce.orders.get(number)).status == "delivered"
    assert "哪件商品" in await say("我要退货")  # the return has started: which item?
