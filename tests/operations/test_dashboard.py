"""R6.1-1/2, R6.2-1/2: the back-office dashboard after a scripted day of real traffic (HTTP chat ->
pipeline -> events): an admin sees the funnel search -> view -> cart -> order -> paid, orders and sales
per day, the top zero-result search and the NLU fallback rate; a merchant owner sees only its own
funnel and sales (another merchant sees none of them); the CSV says the same; charts are drawn by the
vendored Chart.js under the strict CSP; no shopper's data appears; bad ranges are a 400."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from bot.runtime import Runtime
from commerce_core.api import SYSTEM_ACTOR, FakeClock, MerchantStatus, OperatorPolicy, OperatorRole
from tests.backoffice.conftest import PASSWORD, Browser
from tests.commerce.factory import names
from tests.conftest import fresh_postgres
from tests.http.test_app import ADDRESS, chat, place_order
from tests.operations.conftest import Client
from tests.runtime_support import sqlite_copy

ZERO_QUERY = "有没有潜水艇"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return sqlite_copy(request, tmp_path) if request.param == "sqlite" else fresh_postgres(request)


async def scripted_day(client: Client, runtime: Runtime) -> tuple[str, int]:
    """Three shoppers: one buys a red dress and pays, two look for a submarine, one speaks nonsense."""
    commerce = runtime.container.commerce
    number, payment = await place_order(client, "day-buyer")
    await commerce.payments.sandbox_pay(payment)
    await chat(client, "day-looker", text=ZERO_QUERY, lang="zh-Hans")
    await chat(client, "day-looker", text="有没有红色连衣裙", lang="zh-Hans")
    await chat(client, "day-other", text=ZERO_QUERY, lang="zh-Hans")
    await chat(client, "day-other", text="qwzx vlorp ghh", lang="en")
    behaviour = runtime.pipeline.behaviour
    assert behaviour is not None
    await behaviour.buffer.flush()  # what the background writer does within seconds
    order = await commerce.orders.get(number)
    return number, order.total.amount


async def operators(runtime: Runtime) -> None:
    commerce = runtime.container.commerce
    commerce.operators.policy = OperatorPolicy(hash_time_cost=1, hash_memory_kib=256, hash_parallelism=1)
    await commerce.merchants.register(
        "bolt", names("闪电五金", "Bolt Hardware"), status=MerchantStatus.ACTIVE
    )
    for email, role, merchant in (
        ("admin@example.com", OperatorRole.ADMIN, None),
        ("agent@example.com", OperatorRole.AGENT, None),
        ("owner@acme.example", OperatorRole.MERCHANT_OWNER, "acme"),
        ("owner@bolt.example", OperatorRole.MERCHANT_OWNER, "bolt"),
    ):
        await commerce.operators.create(
            email, PASSWORD, role, merchant_code=merchant, display_name=email[:5], actor=SYSTEM_ACTOR
        )


def funnel(page: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'<td data-stage="(\w+)">(\d+)</td>', page)}


def day_row(page: str, day: str) -> tuple[int, str]:
    found = re.search(
        rf'<tr data-day="{day}"><td>{day}</td><td class="orders">(\d+)</td><td class="sales">([\d.]+)</td>',
        page,
    )
    assert found, page
    return int(found.group(1)), found.group(2)


async def test_dashboard_shows_what_a_scripted_day_implies(
    client: Client, runtime: Runtime, clock: FakeClock
) -> None:
    number, total = await scripted_day(client, runtime)
    await operators(runtime)
    today = clock.now().date().isoformat()
    browser = Browser(client)

    await browser.login("admin@example.com")
    response = await client.get("/admin/dashboard")
    page = await response.text()
    assert response.status == 200
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe" not in csp
    assert "/static/chart.umd.min.js" in page and "/static/dashboard.js" in page
    assert all("src=" in tag for tag in re.findall(r"<script\b[^>]*>", page))  # no inline script
    assert page.count("<canvas") == 6 and "http://" not in page and "https://" not in page
    assert funnel(page) == {"search": 4, "product_view": 1, "cart_add": 1, "order_placed": 1, "paid": 1}
    assert day_row(page, today) == (1, f"{total / 100:.2f}")
    assert re.search(rf'<td class="query">{ZERO_QUERY}</td><td class="times">2</td>', page)
    rate = re.search(r'id="fallback-rate" data-rate="([\d.]+)"', page)
    assert rate and float(rate.group(1)) == round(1 / 11, 3)  # 1 of 11 messages not understood
    for private in ("day-buyer", "day-looker", "13812345678", "张三", ADDRESS):
        assert private not in page  # no shopper's data on the dashboard
    static = await client.get("/admin/static/chart.umd.min.js")
    assert static.status == 200 and "Chart" in await static.text()

    response = await client.get("/admin/dashboard.csv", params={"from": today, "to": today})
    assert response.status == 200 and response.content_type == "text/csv"
    rows = list(csv.reader(io.StringIO((await response.text()).lstrip("\ufeff"))))
    assert ["funnel", "paid", "count", "1"] in rows and ["per_day", today, "orders", "1"] in rows
    assert ["per_day", today, "sales", f"{total / 100:.2f}"] in rows
    assert ["zero_results", ZERO_QUERY, "times", "2"] in rows

    for bad in ({"from": "yesterday"}, {"from": today, "to": "2020-01-01"}, {"from": "2000-01-01"}):
        assert (await client.get("/admin/dashboard", params=bad)).status == 400

    await browser.post("/admin/logout")
    await browser.login("owner@acme.example")
    page = await (await client.get("/admin/dashboard")).text()
    assert funnel(page) == {"product_view": 1, "cart_add": 1, "order_placed": 1, "paid": 1}  # no searches
    assert day_row(page, today) == (1, f"{total / 100:.2f}")
    assert ZERO_QUERY not in page and "fallback-rate" not in page  # shop-wide figures are the admin's

    await browser.post("/admin/logout")
    await browser.login("owner@bolt.example")
    page = await (await client.get("/admin/dashboard")).text()
    assert funnel(page) == {"product_view": 0, "cart_add": 0, "order_placed": 0, "paid": 0}
    assert day_row(page, today) == (0, "0.00")
    csv_text = await (await client.get("/admin/dashboard.csv")).text()
    assert number not in csv_text
    assert ["per_day", today, "orders", "0"] in list(csv.reader(io.StringIO(csv_text)))

    await browser.post("/admin/logout")
    await browser.login("agent@example.com")
    assert (await client.get("/admin/dashboard")).status in (403, 404)
