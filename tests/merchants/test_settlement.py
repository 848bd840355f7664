"""The settlement statement per period (R4.4-3): paid orders, refunds, the platform fee (a setting),
what is payable, on a page and as CSV; worked numbers, half-up rounding, and merchant B never seeing
merchant A's orders. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest

from bot.settings import Settings
from commerce_core.api import SYSTEM_ACTOR, Actor, Commerce, FakeClock
from commerce_core.merchant_orders.settlement import platform_fee, share
from commerce_core.orders.types import LineRequest
from tests.backoffice.conftest import Browser
from tests.commerce.factory import ADDRESS
from tests.conftest import fresh_postgres
from tests.merchants.conftest import Team, paid_two_merchant_order
from tests.runtime_support import sqlite_copy


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """This module runs on both databases (the merchants' tests otherwise run on SQLite)."""
    if request.param == "sqlite":
        return sqlite_copy(request, tmp_path)
    return fresh_postgres(request)


def test_shares_and_fees_round_half_up_to_the_fen() -> None:
    """R4.4-3: the only divisions, exact then rounded once."""
    assert platform_fee(19900, Decimal("2.5")) == 498  # 497.5 -> 498
    assert platform_fee(19860, Decimal("2.5")) == 497  # 496.5 -> 497
    assert platform_fee(12345, Decimal("5")) == 617  # 617.25 -> 617
    assert platform_fee(-100, Decimal("5")) == 0 and platform_fee(100, Decimal("0")) == 0
    assert share(1000, 1, 3) == 333 and share(1000, 2, 3) == 667  # 333.33, 666.67
    assert share(1001, 1, 2) == 501  # 500.5 -> 501
    assert share(500, 3, 0) == 0 and share(500, 7, 7) == 500


def test_the_fee_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPBOT_PLATFORM_FEE_PERCENT", "2.5")
    assert Settings().platform_fee_percent == Decimal("2.5")
    monkeypatch.setenv("SHOPBOT_PLATFORM_FEE_PERCENT", "101")
    with pytest.raises(ValueError):
        Settings()


async def _paid(commerce: Commerce, team: Team, key: str, *items: LineRequest) -> str:
    order = await commerce.orders.place(team.shopper, ADDRESS, key, items=list(items))
    await commerce.payments.sandbox_pay((await commerce.payments.start(order.number)).payment_id)
    return order.number


async def test_statement_with_numbers_page_and_csv(
    browser: Browser, commerce: Commerce, team: Team, clock: FakeClock
) -> None:
    """R4.4-3: acme sells 199 + 598 + 597 yuan, the 598 is cancelled by acme and the 597 by the
    shopper: net 199.00, fee 2.5 % = 4.975 -> 4.98, payable 194.02. Bolt: 98.00, fee 2.45, 95.55."""
    commerce.settlements.fee_percent = Decimal("2.5")
    day = clock.now().date()
    first = await paid_two_merchant_order(commerce, team)  # acme 199.00, bolt 2 x 49.00
    second = await _paid(commerce, team, "s2", LineRequest("D2-BLK-S", 1), LineRequest("D1-RED-M", 1))
    third = await _paid(commerce, team, "s3", LineRequest("D1-RED-L", 3))
    await commerce.merchant_orders.cancel_part(
        team.acme, second, Actor(team.owner_a.public_id, None), reason="x"
    )
    await commerce.orders.cancel(third, actor="customer", reason="changed my mind")

    acme = await commerce.settlements.statement(team.acme, day, day)
    assert [o.order_number for o in acme.orders] == [first, second, third]
    assert (acme.gross.amount, acme.refunded.amount) == (19900 + 59800 + 59700, 59800 + 59700)
    assert [r.refunded.amount for r in acme.refunds] == [59800, 59700]
    assert (acme.fee.amount, acme.payable.amount, acme.carried_over.amount) == (498, 19402, 0)
    bolt = await commerce.settlements.statement(team.bolt, day, day)
    assert [o.order_number for o in bolt.orders] == [first]
    assert (bolt.gross.amount, bolt.refunded.amount, bolt.fee.amount, bolt.payable.amount) == (
        9800,
        0,
        245,
        9555,
    )

    # next month acme refunds more than it sells: nothing payable, the rest carried over
    clock.advance(days=40)
    await commerce.merchant_orders.cancel_part(team.acme, first, SYSTEM_ACTOR, reason="lost it")
    later = clock.now().date()
    month = await commerce.settlements.statement(team.acme, later.replace(day=1), later)
    assert (month.gross.amount, month.refunded.amount, month.fee.amount) == (0, 19900, 0)
    assert (month.payable.amount, month.carried_over.amount) == (0, 19900)

    await browser.login("owner@acme.example")
    status, page = await browser.get(f"/admin/merchant/settlement?from={day}&to={day}")
    assert status == 200 and "Platform fee (2.5%)" in page
    assert "¥1394.00" in page and "¥1195.00" in page and "¥4.98" in page and "¥194.02" in page
    status, body = await browser.get(f"/admin/merchant/settlement.csv?from={day}&to={day}")
    assert status == 200
    rows = {
        r["kind"]: r
        for r in csv.DictReader(io.StringIO(body.lstrip("\ufeff")))
        if not r["kind"].startswith("o")
    }
    assert rows["payable"]["amount"] == "¥194.02" and rows["platform_fee"]["deduction"] == "¥4.98"
    status, page = await browser.get(f"/admin/merchant/settlement?month={later:%Y-%m}")
    assert status == 200 and "Refunds carried to the next period" in page
    for bad in (
        "month=2026-13",
        f"from={day}",
        "from=2026-02-01&to=2026-01-01",
        "from=2020-01-01&to=2026-01-01",
    ):
        status, page = await browser.get(f"/admin/merchant/settlement?{bad}")
        assert status == 400 and "Choose a month" in page, bad

    await browser.post("/admin/logout", {})
    await browser.login("owner@bolt.example")
    _, body = await browser.get(f"/admin/merchant/settlement.csv?from={day}&to={day}")
    assert first in body and second not in body and third not in body
