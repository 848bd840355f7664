"""Anomaly alerts (R3.4-2, R5.1-3): each rule triggered by the events it watches and quiet below its
threshold; every alert is stored once (however often the events are relayed) and posted once to the
Telegram staff group's general topic; phones and addresses appear masked only."""

from __future__ import annotations

from commerce_core.api import AlertRule, AlertState
from commerce_core.clock import FakeClock
from tests.commerce.factory import ADDRESS
from tests.operations.alerts_support import Staffed, other_address, staffed

__all__ = ["staffed"]


async def test_a_burst_of_one_shoppers_failed_payments_alerts_staff_once(staffed: Staffed) -> None:
    """R3.4-2: three failed payments of one shopper within ten minutes raise one alert, posted once
    to the staff group; two do not."""
    shopper = await staffed.commerce.customers.identify("telegram", "7101")
    first = await staffed.order(shopper.id, "f1")
    await staffed.fail_payment(first, times=2)
    await staffed.relay()
    assert await staffed.alerts() == []  # below the threshold: quiet
    second = await staffed.order(shopper.id, "f2")
    await staffed.fail_payment(second)  # the third
    await staffed.relay()
    await staffed.fail_payment(second)  # a fourth in the same burst: no second alert
    await staffed.relay()
    (alert,) = await staffed.alerts(AlertRule.PAYMENT_FAILURES_SHOPPER)
    assert alert.subject == f"customer:{shopper.public_id}"
    assert alert.details["failures"] == 3 and alert.details["threshold"] == 3
    posts = [p for p in staffed.group_posts() if alert.public_id in p]
    assert len(posts) == 1 and "failed 3 payments" in posts[0] and shopper.public_id in posts[0]


async def test_failed_payments_spread_over_time_raise_nothing(staffed: Staffed, clock: FakeClock) -> None:
    """R3.4-2: the same three failures, eleven minutes apart, are not a burst."""
    shopper = await staffed.commerce.customers.identify("telegram", "7102")
    for n in range(3):
        number = await staffed.order(shopper.id, f"slow{n}")
        await staffed.fail_payment(number)
        await staffed.relay()
        clock.advance(minutes=11)
    assert await staffed.alerts() == []


async def test_failed_payments_across_the_platform_alert_once(staffed: Staffed) -> None:
    """R3.4-2: five failures from five different shoppers in the window: one platform-wide alert and
    no per-shopper alert (each shopper failed once)."""
    for n in range(4):
        shopper = await staffed.commerce.customers.identify("telegram", f"72{n:02d}")
        await staffed.fail_payment(await staffed.order(shopper.id, f"p{n}"))
    await staffed.relay()
    assert await staffed.alerts() == []  # four: below the platform threshold
    shopper = await staffed.commerce.customers.identify("telegram", "7299")
    await staffed.fail_payment(await staffed.order(shopper.id, "p5"))
    await staffed.relay()
    alerts = await staffed.alerts()
    assert [a.rule for a in alerts] == [AlertRule.PAYMENT_FAILURES_PLATFORM]
    assert alerts[0].subject == "platform" and alerts[0].details["failures"] == 5


async def test_an_unusually_large_order_alerts_and_a_normal_one_does_not(staffed: Staffed) -> None:
    """R3.4-2: an order at or above the amount (¥1000 here) or the quantity threshold alerts; a usual
    order does not."""
    shopper = await staffed.commerce.customers.identify("telegram", "7301")
    await staffed.order(shopper.id, "small", sku="D3-BLU-M", quantity=2)  # ¥198, 2 items
    await staffed.relay()
    assert await staffed.alerts() == []
    big = await staffed.order(shopper.id, "big", sku="H1-BLK", quantity=2)  # ¥1198
    many = await staffed.order(shopper.id, "many", sku="D3-BLU-M", quantity=8)  # ¥792, 8 items
    await staffed.relay()
    alerts = {a.subject: a for a in await staffed.alerts(AlertRule.LARGE_ORDER)}
    assert set(alerts) == {f"order:{big}", f"order:{many}"}
    assert alerts[f"order:{big}"].details["reasons"] == ["amount"]
    assert alerts[f"order:{many}"].details["reasons"] == ["quantity"]
    post = next(p for p in staffed.group_posts() if big in p)
    assert "¥1,198.00" in post or "¥1198.00" in post


async def test_new_accounts_sharing_a_phone_alert_with_the_phone_masked(staffed: Staffed) -> None:
    """R3.4-2/R4.1-6: three new accounts shipping to one phone (different addresses) raise one alert
    that shows the phone masked, never in clear; two accounts do not."""
    phone = "13912345678"
    for n in range(2):
        shopper = await staffed.commerce.customers.identify("telegram", f"740{n}")
        await staffed.order(shopper.id, f"s{n}", address=other_address(phone, line=f"长寿路{n + 1}号"))
    await staffed.relay()
    assert await staffed.alerts() == []
    third = await staffed.commerce.customers.identify("telegram", "7403")
    await staffed.order(third.id, "s3", address=other_address(phone, line="长寿路9号"))
    await staffed.relay()
    (alert,) = await staffed.alerts()
    assert alert.rule is AlertRule.SHARED_PHONE and alert.details["accounts"] == 3
    assert alert.details["masked"] == "139******78"
    stored = repr(alert)
    post = next(p for p in staffed.group_posts() if alert.public_id in p)
    for text in (stored, post):
        assert phone not in text and "长寿路" not in text  # never the raw phone or street
    assert "139******78" in post


async def test_new_accounts_sharing_an_address_alert_but_old_accounts_do_not_count(
    staffed: Staffed, clock: FakeClock
) -> None:
    """R4.1-6: accounts older than the "new" window do not count; three new ones at one address do
    (whitespace and case in the address do not hide it)."""
    veteran = await staffed.commerce.customers.identify("telegram", "7500")
    clock.advance(days=30)
    await staffed.order(veteran.id, "v", address=other_address("13900000001"))
    for n in range(2):
        shopper = await staffed.commerce.customers.identify("telegram", f"750{n + 1}")
        address = other_address(f"1390000001{n}", line="浦东新区 世纪大道100号8楼" if n else ADDRESS.line)
        await staffed.order(shopper.id, f"a{n}", address=address)
    await staffed.relay()
    assert await staffed.alerts() == []  # two new accounts and an old one: below three new
    third = await staffed.commerce.customers.identify("telegram", "7509")
    await staffed.order(third.id, "a9", address=other_address("13900000019"))
    await staffed.relay()
    (alert,) = await staffed.alerts(AlertRule.SHARED_ADDRESS)
    assert alert.details["accounts"] == 3 and veteran.public_id not in alert.details["customers"]
    assert "世纪大道" not in alert.details["masked"] and alert.details["masked"].startswith("上海市 上海")


async def test_alerts_are_listed_by_state_and_acknowledged_once(staffed: Staffed) -> None:
    """R3.4-2: an acknowledged alert leaves the open list, names who acknowledged it, and cannot be
    acknowledged twice."""
    from commerce_core.api import SYSTEM_ACTOR, AlertFilter, InvalidInput

    shopper = await staffed.commerce.customers.identify("telegram", "7601")
    await staffed.order(shopper.id, "big", sku="H1-BLK", quantity=2)
    await staffed.relay()
    (alert,) = await staffed.commerce.alerts.find(AlertFilter(state=AlertState.OPEN))
    done = await staffed.commerce.alerts.acknowledge(alert.public_id, SYSTEM_ACTOR, "called the shopper")
    assert done.state is AlertState.ACKNOWLEDGED and done.note == "called the shopper"
    assert await staffed.commerce.alerts.find(AlertFilter(state=AlertState.OPEN)) == []
    try:
        await staffed.commerce.alerts.acknowledge(alert.public_id, SYSTEM_ACTOR)
    except InvalidInput as refused:
        assert refused.code == "already_acknowledged"
    else:
        raise AssertionError("a second acknowledgement was accepted")


async def test_erasing_a_shopper_erases_their_contact_fingerprints(staffed: Staffed) -> None:
    """R3.3-2 with R4.1-6: an erased shopper's phone and address fingerprints go with their data, and
    they no longer count towards a shared phone."""
    from sqlalchemy import text

    phone = "13912340000"
    shoppers = [await staffed.commerce.customers.identify("telegram", f"790{n}") for n in range(3)]
    for n, shopper in enumerate(shoppers[:2]):
        await staffed.order(shopper.id, f"e{n}", address=other_address(phone, line=f"南京路{n}号"))
    await staffed.relay()
    await staffed.commerce.privacy.erase(shoppers[0].id, actor="customer")
    await staffed.relay()
    async with staffed.commerce.engine.connect() as conn:
        left = await conn.scalar(
            text("SELECT count(*) FROM alert_contacts WHERE customer_id = :c"), {"c": shoppers[0].id}
        )
    assert left == 0
    await staffed.order(shoppers[2].id, "e2", address=other_address(phone, line="南京路2号"))
    await staffed.relay()
    assert await staffed.alerts() == []  # two live new accounts behind the phone: below three
