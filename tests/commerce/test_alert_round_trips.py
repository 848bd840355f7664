"""PostgreSQL round trips of the anomaly rules an order runs in the outbox relay (issue 16).

Every order placed runs :meth:`AlertService.order_placed` once its ``OrderPlaced`` event is relayed
(inline on the web chat's pay button), so each statement it sends is paid per order. These tests pin
the counts (BEGIN and COMMIT included, every statement already prepared) beside what the rules still
find: a crowd behind one phone is alerted on once, the merchant buying from itself is flagged.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from commerce_core.alerts.model import AlertContact
from commerce_core.alerts.types import AlertFilter, AlertRule, AlertThresholds
from commerce_core.app import Commerce
from commerce_core.clock import FakeClock
from commerce_core.orders.types import LineRequest
from tests.commerce.factory import ADDRESS, add_bolt, build_shop
from tests.commerce.test_round_trips import counting

#: before issue 16's alert work: 5 for an account older than the "new" window (the order, its lines,
#: then three reads of the self-purchase rule), 10 to 11 for a new account (those 5, BEGIN, the
#: fingerprints (counted twice: a batch), which contacts were alerted on, each contact not alerted
#: on counted apart, COMMIT)
OLD_ACCOUNT_TRIPS = 1  # the order, its buyer, its lines and what its merchants show of the buyer
NEW_ACCOUNT_TRIPS = 2  # that; the fingerprints written beside every contact's crowd
THRESHOLDS = AlertThresholds(accounts_per_contact=3, new_account_days=7)


async def _order(commerce: Commerce, key: str, phone: str, line: str) -> str:
    shopper = await commerce.customers.identify("telegram", key)
    address = replace(ADDRESS, phone=phone, line=line)
    placed = await commerce.orders.place(shopper.id, address, key, items=[LineRequest("D1-RED-M", 1)])
    return placed.number


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_an_orders_anomaly_rules_take_few_round_trips_and_still_alert_once(
    commerce: Commerce, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await build_shop(commerce, stock=50)
    alerts = commerce.alerts
    alerts.thresholds = THRESHOLDS
    phone = "13912345678"
    for n in range(3):  # three new accounts behind one phone: the third order raises the alert
        raised = await alerts.order_placed(await _order(commerce, f"80{n}", phone, f"长寿路{n}号"))
    assert [a.rule for a in raised] == [AlertRule.SHARED_PHONE]
    assert raised[0].details["accounts"] == 3

    fourth = await _order(commerce, "804", phone, "长寿路4号")
    with counting(monkeypatch) as crowded:  # the phone was alerted on; the street is new
        assert await alerts.order_placed(fourth) == []
    fifth = await _order(commerce, "805", "13700000005", "长寿路5号")
    with counting(monkeypatch) as alone:  # nobody shares this phone or street
        assert await alerts.order_placed(fifth) == []
    assert await alerts.order_placed(fifth) == []  # the relay's retry records nothing twice
    async with commerce.units.orm() as uow:
        stored = (await uow.session.execute(select(AlertContact.kind, AlertContact.customer_id))).all()
    fifth_buyer = (await commerce.orders.get(fifth)).customer_id
    assert sorted(kind for kind, who in stored if who == fifth_buyer) == ["address", "phone"]
    assert len(stored) == 5 * 2  # each new account's phone and street, once
    assert len(crowded) <= NEW_ACCOUNT_TRIPS, crowded
    assert len(alone) <= NEW_ACCOUNT_TRIPS, alone
    await commerce.customers.identify("telegram", "806")
    clock.advance(days=30)  # no longer a new account: its contacts are not counted
    sixth = await _order(commerce, "806", phone, "长寿路6号")
    with counting(monkeypatch) as old:
        assert await alerts.order_placed(sixth) == []
    assert len(old) <= OLD_ACCOUNT_TRIPS, old
    found = await alerts.find(AlertFilter(rule=AlertRule.SHARED_PHONE))
    assert len(found) == 1  # still one alert for the crowd, however many more orders it places


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_the_one_read_of_an_orders_merchants_still_finds_self_purchase_and_large_orders(
    commerce: Commerce,
) -> None:
    """What the single read of an order's lines and merchants answers on PostgreSQL: the merchant
    whose contact phone the order ships to is flagged (and only that merchant of a two-merchant
    order), and the items of every line count towards a large order."""
    await build_shop(commerce, stock=50)
    commerce.alerts.thresholds = AlertThresholds(large_order_quantity=4)
    await add_bolt(commerce, stock=50, contact_phone="13855556666")
    shopper = await commerce.customers.identify("telegram", "901")
    to_contact = replace(ADDRESS, phone="138 5555 6666", line="工业路1号")
    items = [LineRequest("D1-RED-M", 1)]
    acme_only = await commerce.orders.place(shopper.id, to_contact, "acme", items=items)
    assert await commerce.alerts.order_placed(acme_only.number) == []

    items = [LineRequest("D1-RED-M", 2), LineRequest("B1-STD", 2)]
    both = await commerce.orders.place(shopper.id, to_contact, "both", items=items)
    raised = {alert.rule: alert for alert in await commerce.alerts.order_placed(both.number)}
    assert set(raised) == {AlertRule.LARGE_ORDER, AlertRule.SELF_PURCHASE}
    assert raised[AlertRule.LARGE_ORDER].details["quantity"] == 4
    assert raised[AlertRule.SELF_PURCHASE].details["merchant"] == "bolt"
    assert raised[AlertRule.SELF_PURCHASE].details["signals"] == ["contact_phone"]


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_a_failed_payment_is_weighed_in_one_read_for_the_shopper_and_the_platform(
    commerce: Commerce, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: BEGIN, two reads through the ORM (the platform's failures, then the shopper's) and
    ROLLBACK. The shopper's third failure alerts on them, and the platform's fourth (another
    shopper's included) on it."""
    await build_shop(commerce, stock=50)
    alerts = commerce.alerts
    alerts.thresholds = AlertThresholds(payment_failures_per_shopper=3, payment_failures_platform=4)
    other = await _order(commerce, "910", "13700000010", "长寿路10号")
    await commerce.payments.sandbox_pay((await commerce.payments.start(other)).payment_id, succeed=False)
    number = await _order(commerce, "911", "13700000011", "长寿路11号")
    payment = (await commerce.payments.start(number)).payment_id
    shopper = (await commerce.orders.get(number)).customer_id
    for _ in range(2):
        await commerce.payments.sandbox_pay(payment, succeed=False)
    await alerts.payment_failed(number, shopper)  # prepares the statement
    with counting(monkeypatch) as weighing:
        assert await alerts.payment_failed(number, shopper) == []  # 2 of the shopper's, 3 in all
    assert len(weighing) == 1, weighing
    await commerce.payments.sandbox_pay(payment, succeed=False)
    raised = {alert.rule: alert for alert in await alerts.payment_failed(number, shopper)}
    assert set(raised) == {AlertRule.PAYMENT_FAILURES_SHOPPER, AlertRule.PAYMENT_FAILURES_PLATFORM}
    assert raised[AlertRule.PAYMENT_FAILURES_SHOPPER].details["failures"] == 3
    assert raised[AlertRule.PAYMENT_FAILURES_PLATFORM].details["failures"] == 4
