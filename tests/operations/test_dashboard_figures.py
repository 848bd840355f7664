"""The dashboard's figures beyond the scripted day (R6.1-1/2, R6.2-1, R6.4-1, R6.3-1/2):

- ``paid`` behaviour rows are written with the payment's capture: an order shared by two merchants is
  one paid order for the shop and one for each merchant; a repeated notification adds nothing; the rows
  are in the shopper's export and go with erasure (SQLite and PostgreSQL);
- the after-sales 24-hour clock (within, over, waiting, median time to first action) and the handoff
  figures are read from the desk's and the handoff tables, only for admins;
- the 7-day forecast follows its stated method (simple exponential smoothing, residual band);
- misunderstood messages are masked (digits, e-mail addresses) before they are kept or shown;
- the CSV export has every table, one at a time on request; an unknown table is a 400.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.runtime import Runtime
from commerce_core.analytics.forecast import ALPHA, forecast_orders
from commerce_core.analytics.types import mask_personal
from commerce_core.api import (
    SYSTEM_ACTOR,
    CaseItemRequest,
    CaseKind,
    Commerce,
    FakeClock,
    LineRequest,
    MerchantStatus,
    ProductDraft,
    VariantDraft,
)
from tests.backoffice.conftest import Browser
from tests.commerce.factory import ADDRESS, names
from tests.conftest import fresh_postgres
from tests.operations.conftest import Client
from tests.operations.test_dashboard import operators
from tests.runtime_support import sqlite_copy


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return sqlite_copy(request, tmp_path) if request.param == "sqlite" else fresh_postgres(request)


async def second_merchant(commerce: Commerce) -> int:
    """``bolt`` with one product (B1) beside the test shop's ``acme``; returns bolt's id."""
    merchant = await commerce.merchants.register(
        "bolt", names("闪电五金", "Bolt Hardware"), status=MerchantStatus.ACTIVE
    )
    await commerce.catalog.create_product(
        ProductDraft(
            "B1",
            "bolt",
            "headphones",
            names("有线耳机", "Wired Earphones"),
            names("铜线", "Copper"),
            [VariantDraft("B1-WHT", {"color": "white"}, 4900, 10)],
        )
    )
    await commerce.catalog.publish("B1")
    return merchant.id


async def paid_order(commerce: Commerce, customer_id: int, key: str, *skus: str) -> str:
    order = await commerce.orders.place(customer_id, ADDRESS, key, items=[LineRequest(s, 1) for s in skus])
    payment = (await commerce.payments.start(order.number)).payment_id
    assert (await commerce.payments.sandbox_pay(payment)).outcome == "captured"
    assert (await commerce.payments.sandbox_pay(payment)).outcome != "captured"  # a repeat adds nothing
    return order.number


async def test_paid_rows_count_an_order_once_for_the_shop_and_once_per_merchant(
    runtime: Runtime, clock: FakeClock
) -> None:
    """R6.2-1: the funnel's paid stage comes from ``paid`` events, scoped by merchant."""
    commerce = runtime.container.commerce
    bolt = await second_merchant(commerce)
    acme = (await commerce.merchants.get("acme")).id
    customer = await commerce.customers.identify("web", "paid-rows-shopper", language="en")
    await paid_order(commerce, customer.id, "k-1", "D1-RED-M", "B1-WHT")  # both merchants
    await paid_order(commerce, customer.id, "k-2", "D2-BLK-S")  # acme only
    await commerce.orders.place(customer.id, ADDRESS, "k-3", items=[LineRequest("B1-WHT", 1)])  # unpaid
    today = clock.now().date()
    analytics = commerce.analytics
    shop = await analytics.figures(today, today)
    assert (shop.funnel["order_placed"], shop.funnel["paid"]) == (3, 2)
    mine = await analytics.figures(today, today, merchant_id=acme)
    assert (mine.funnel["order_placed"], mine.funnel["paid"]) == (2, 2)
    theirs = await analytics.figures(today, today, merchant_id=bolt)
    assert (theirs.funnel["order_placed"], theirs.funnel["paid"]) == (2, 1)
    assert [(p.code, p.orders) for p in theirs.hot_products] == [("B1", 2)]  # bolt sees only its own

    exported = await commerce.privacy.export(customer.id)
    assert [e["kind"] for e in exported["behaviour_events"]].count("paid") == 3  # 2 + 1 merchant rows
    await commerce.privacy.erase(customer.id, actor="test")
    assert (await analytics.figures(today, today)).funnel["paid"] == 0  # the events went with the data


async def delivered_orders(commerce: Commerce, clock: FakeClock, count: int) -> list[tuple[int, str]]:
    placed = []
    for n in range(count):
        customer = await commerce.customers.identify("web", f"sla-shopper-{n}", language="en")
        order = await commerce.orders.place(
            customer.id, ADDRESS, f"sla-{n}", items=[LineRequest("D1-RED-M", 1)]
        )
        await commerce.payments.sandbox_pay((await commerce.payments.start(order.number)).payment_id)
        placed.append((customer.id, order.number, await commerce.shipments.ship(order.number)))
    clock.advance(days=15)
    for _, _, shipment in placed:
        await commerce.shipments.refresh(shipment.tracking_number)
    return [(customer_id, number) for customer_id, number, _ in placed]


async def test_after_sales_clock_and_handoffs_are_the_admins_figures(
    client: Client, runtime: Runtime, clock: FakeClock
) -> None:
    """R5.4-1 on the dashboard: cases answered within and after 24 h, one still waiting, the median
    time to first action; handoff volume, first response, resolution and rating; merchants see none."""
    commerce = runtime.container.commerce
    orders = await delivered_orders(commerce, clock, 4)
    first_day = clock.now().date()

    async def case(n: int) -> str:
        customer_id, number = orders[n]
        opened = await commerce.after_sales.open(
            customer_id, number, CaseKind.RETURN, [CaseItemRequest(1, 1)], reason_code="size_fit"
        )
        return opened.number

    quick, slow = await case(0), await case(1)
    await case(2)  # never answered: over its 24 hours by the end
    clock.advance(hours=2)
    await commerce.cases.ask_info(quick, SYSTEM_ACTOR, question="Which size do you need?")
    clock.advance(hours=28)  # 30 h after opening: slow is answered late, ignored is overdue
    await commerce.cases.ask_info(slow, SYSTEM_ACTOR, question="Which size do you need?")
    await case(3)  # just opened: waiting, still within its 24 hours

    support = commerce.support
    ticket = await support.open("web:handoff-shopper", "web", "talk to a person", customer_id=None)
    clock.advance(minutes=6)
    await support.claim(ticket.number, "OPamy")
    await support.reply(ticket.number, "OPamy", "Hello")
    clock.advance(minutes=30)
    await support.resolve(ticket.number, actor="OPamy")
    await support.rate(ticket.number, 4)

    last_day = clock.now().date()
    figures = await commerce.analytics.figures(first_day, last_day)
    sla = figures.after_sales
    assert sla is not None
    assert (sla.opened, sla.within, sla.over, sla.waiting) == (4, 1, 2, 1)
    assert sla.first_action_s == (2 + 30) / 2 * 3600  # the median of 2 h and 30 h
    handoffs = figures.handoffs
    assert handoffs is not None
    assert (handoffs.volume, handoffs.answered, handoffs.resolved) == (1, 1, 1)
    assert (handoffs.first_response_s, handoffs.resolution_s) == (6 * 60, 36 * 60)
    assert (handoffs.ratings, handoffs.average_rating) == (1, 4.0)

    await operators(runtime)
    browser = Browser(client)
    await browser.login("admin@example.com")
    span = {"from": first_day.isoformat(), "to": last_day.isoformat()}
    page = await (await client.get("/admin/dashboard", params=span)).text()
    assert '<td class="within">1</td><td class="over">2</td><td class="waiting">1</td>' in page
    assert '<td class="first-action">16.0 h</td>' in page
    assert '<td class="first-response">6 min</td>' in page and '<td class="resolution">36 min</td>' in page
    response = await client.get("/admin/dashboard.csv", params={**span, "section": "after_sales"})
    rows = list(csv.reader(io.StringIO((await response.text()).lstrip("\ufeff"))))
    assert rows[0] == ["section", "key", "measure", "value"]
    assert ["after_sales", "all", "over_24h", "2"] in rows and {r[0] for r in rows[1:]} == {"after_sales"}
    assert (await client.get("/admin/dashboard.csv", params={"section": "passwords"})).status == 400

    await browser.post("/admin/logout")
    await browser.login("owner@acme.example")
    page = await (await client.get("/admin/dashboard", params=span)).text()
    assert 'class="after-sales"' not in page and 'class="handoffs"' not in page
    all_rows = await (await client.get("/admin/dashboard.csv", params=span)).text()
    assert "after_sales" not in all_rows and "handoffs" not in all_rows and "per_day" in all_rows


def test_forecast_follows_simple_exponential_smoothing_with_a_residual_band() -> None:
    """R6.4-1: checked by hand. Series 0, 0, 3: levels 0, 0, 0.9; residuals 0 and 3, so s = sqrt(9/2)."""
    last = date(2026, 1, 31)
    days = forecast_orders([0, 0, 3], last)
    assert [d.day for d in days] == [last + timedelta(days=h) for h in range(1, 8)]
    spread = math.sqrt(9 / 2)
    assert days[0].expected == 0.9 and days[0].high == round(0.9 + 1.96 * spread, 2)
    assert days[6].high == round(0.9 + 1.96 * spread * math.sqrt(1 + 6 * ALPHA**2), 2)
    assert all(d.low == 0.0 for d in days)  # never negative orders
    assert all(a.high < b.high for a, b in itertools.pairwise(days))  # wider further ahead
    steady = forecast_orders([5] * 28, last)
    assert {(d.expected, d.low, d.high) for d in steady} == {(5.0, 5.0, 5.0)}  # no error, no band
    assert forecast_orders([], last) == []


def test_misunderstood_messages_are_masked() -> None:
    """R6.3-2: no phone number, e-mail address or id survives into the dashboard."""
    assert mask_personal("call 138-1234-5678 or mail zhang.san@example.com") == (
        "call ###-####-#### or mail [email]"
    )
    assert mask_personal("订单 ＳＮ１２３４５ 在哪") == "订单 ＳＮ##### 在哪"  # full-width digits too
    assert len(mask_personal("x" * 1000)) == 120
