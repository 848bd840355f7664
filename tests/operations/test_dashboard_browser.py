"""R6.1-1/2, R6.2-1/2, R6.4-1 in a real browser (Playwright, Debian's chromium), after a scripted day of
traffic through the real pipeline: web chat over the HTTP API (searches, a zero-result search asked
most, product views, cart adds, checkouts, orders, one paid on the sandbox's pay page, a message nobody
understands that carries a phone number, a handoff an agent answers and resolves and the shopper rates)
and Telegram updates posted to the webhook (a recording Bot API). Then the admin's and two merchant
owners' dashboards, read as a person reads them (table cells), show the figures that day implies:
the funnel, orders and sales per day, the top zero-result search, hot products and categories, the
misunderstood message masked, the handoff figures and the 7-day forecast with its method; a merchant
sees only its own. Charts are drawn by the vendored Chart.js under the strict CSP (no console error).
Screenshots are saved in the test's tmp dir. Locally a missing chromium skips this test; in CI it
fails it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.channels.base import ChannelContext
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.session import RecordingSession
from bot.runtime import Runtime
from commerce_core.api import FakeClock
from nlu import BuiltinInterpreter
from tests.backoffice.conftest import PASSWORD
from tests.commerce.factory import build_shop
from tests.http.test_app import chat, place_order
from tests.http.test_browser import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, _playwright
from tests.operations.conftest import Client
from tests.operations.test_dashboard import ZERO_QUERY, operators
from tests.runtime_support import make_runtime
from tests.telegram.conftest import SECRET, FakeTimer, Shopper, body, telegram_settings

pytestmark = pytest.mark.slow

#: the day's script; the expected figures below are derived from these counts
WEB_BUYERS = ("day-buyer-1", "day-buyer-2")  # each: search, view, cart add, checkout, order
PAYING = WEB_BUYERS[:1]  # pays on the sandbox's pay page
WEB_ZERO_LOOKERS = ("day-looker-1", "day-looker-2", "day-looker-3")  # each searches ZERO_QUERY
OTHER_ZERO_QUERY = "有没有宇宙飞船"  # asked once: ZERO_QUERY must come first
PHONE = "13912345678"
NONSENSE = f"qwzx vlorp {PHONE} ghh"  # not understood, and carries someone's phone number
MASKED = "qwzx vlorp ########### ghh"
FIRST_RESPONSE_MIN, RESOLUTION_MIN, RATING = 4, 25, 5
CHARTS = (
    "Array.from(document.querySelectorAll('canvas')).map(c => c.chart ? c.chart.data.datasets[0].data : null)"
)


@pytest_asyncio.fixture
async def runtime(
    db_url: str, tmp_path: Path, clock: FakeClock, interpreter: BuiltinInterpreter
) -> AsyncIterator[Runtime]:
    """The whole bot with the test shop and a Telegram channel whose Bot API is a recording."""
    session, timer = RecordingSession(), FakeTimer()

    def telegram(context: ChannelContext) -> TelegramChannel:
        return TelegramChannel(context, telegram_settings(), session=session, timer=timer)

    rt = await make_runtime(db_url, tmp_path, clock, interpreter, channels={"telegram": telegram})
    await build_shop(rt.container.commerce)
    await rt.refresh_catalogue()
    try:
        yield rt
    finally:
        await rt.aclose()


async def telegram_turn(client: Client, runtime: Runtime, update: dict[str, Any]) -> list[Any]:
    channel = runtime.channels["telegram"]
    assert isinstance(channel, TelegramChannel)
    session = channel.bot.session
    assert isinstance(session, RecordingSession)
    before = len(session.calls)
    response = await client.post(
        "/telegram/webhook", data=body(update), headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert response.status == 200
    await channel.drain()
    return session.calls[before:]


def callback(calls: list[Any], prefix: str) -> str:
    for call in calls:
        for row in call.params.get("reply_markup", {}).get("inline_keyboard", []):
            for button in row:
                if str(button.get("callback_data", "")).startswith(prefix):
                    return str(button["callback_data"])
    raise AssertionError(f"no button {prefix!r}")


async def scripted_day(client: Client, runtime: Runtime, clock: FakeClock) -> dict[str, Any]:
    """Drive the day; returns what was paid (minor units) and the handoff's ticket number."""
    commerce = runtime.container.commerce
    paid_total = 0
    for user in WEB_BUYERS:
        number, payment = await place_order(client, user)
        if user in PAYING:
            page = await client.post(f"/sandbox/pay/{payment}")  # the pay page's button
            assert page.status == 200 and "captured" in await page.text()
            paid_total += (await commerce.orders.get(number)).total.amount
    for user in WEB_ZERO_LOOKERS:
        await chat(client, user, text=ZERO_QUERY, lang="zh-Hans")
    await chat(client, WEB_ZERO_LOOKERS[0], text=OTHER_ZERO_QUERY, lang="zh-Hans")
    await chat(client, "day-confused", text=NONSENSE, lang="en")

    shopper = Shopper(user_id=7301)  # Telegram: a zero-result search, then a search and a product view
    await telegram_turn(client, runtime, shopper.text(ZERO_QUERY))
    found = await telegram_turn(client, runtime, shopper.text("有没有红色连衣裙"))
    await telegram_turn(client, runtime, shopper.tap(callback(found, "t|p:D1")))

    replies = await chat(client, "day-helpme", text="let me talk to a human", lang="en")
    [ticket] = [r["data"]["ticket_number"] for r in replies if r["type"] == "handoff"]
    support = commerce.support
    clock.advance(minutes=1)
    await support.claim(ticket, "OPamy")
    clock.advance(minutes=FIRST_RESPONSE_MIN - 1)
    await support.reply(ticket, "OPamy", "Hello, how can I help?")
    clock.advance(minutes=RESOLUTION_MIN - FIRST_RESPONSE_MIN)
    await support.resolve(ticket, actor="OPamy")
    await chat(client, "day-helpme", text=str(RATING), lang="en")

    behaviour = runtime.pipeline.behaviour
    assert behaviour is not None
    await behaviour.buffer.flush()  # what the background writer does within seconds
    return {"paid_total": paid_total, "ticket": ticket}


async def sign_in(page: Any, base: str, email: str) -> None:
    await page.goto(base + "/admin/login")
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("form.card button[type=submit]")
    await page.wait_for_load_state()


async def cell(page: Any, selector: str) -> str:
    return str(await page.locator(selector).first.inner_text()).strip()


async def funnel_as_read(page: Any) -> dict[str, int]:
    cells = page.locator("table.funnel td[data-stage]")
    return {
        str(await cells.nth(i).get_attribute("data-stage")): int(await cells.nth(i).inner_text())
        for i in range(await cells.count())
    }


async def test_dashboards_show_the_days_figures(
    client: Client, runtime: Runtime, clock: FakeClock, tmp_path: Path
) -> None:
    day = await scripted_day(client, runtime, clock)
    await operators(runtime)
    today = clock.now().date().isoformat()
    base = str(client.make_url("")).rstrip("/")
    buyers, paying = len(WEB_BUYERS), len(PAYING)
    searches = buyers + len(WEB_ZERO_LOOKERS) + 1 + 2  # + the other zero query + Telegram's two
    views = buyers + 1  # + the Telegram shopper's
    expected_admin = {
        "search": searches,
        "product_view": views,
        "cart_add": buyers,
        "order_placed": buyers,
        "paid": paying,
    }
    expected_acme = {k: v for k, v in expected_admin.items() if k != "search"}  # every product is acme's
    expected_bolt = dict.fromkeys(expected_acme, 0)
    problems: list[str] = []
    async_playwright = _playwright()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            for email, funnel in (
                ("admin@example.com", expected_admin),
                ("owner@acme.example", expected_acme),
                ("owner@bolt.example", expected_bolt),
            ):
                context = await browser.new_context(viewport={"width": 1100, "height": 900}, locale="en-GB")
                page: Any = await context.new_page()
                page.set_default_timeout(TIMEOUT_MS)
                page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
                await sign_in(page, base, email)
                await page.goto(base + "/admin/dashboard")
                await page.wait_for_function(
                    "document.querySelector('canvas') && document.querySelector('canvas').chart"
                )
                assert await funnel_as_read(page) == funnel
                charts = await page.evaluate(CHARTS)
                assert charts[0] == list(funnel.values())  # the funnel as Chart.js drew it
                today_row = f"table.per-day tr[data-day='{today}']"
                mine = funnel["order_placed"]
                assert await cell(page, f"{today_row} td.orders") == str(mine)
                sales = day["paid_total"] if mine else 0
                assert await cell(page, f"{today_row} td.sales") == f"{sales / 100:.2f}"
                assert await page.locator("table.forecast tr[data-day]").count() == 7
                method = await cell(page, "section[aria-labelledby=forecast] p.method")
                assert "exponential smoothing" in method
                content = await page.content()
                if mine:  # hot products: the red dress, viewed, added and ordered by the day's buyers
                    hot = "table.hot-products tr[data-code='D1']"
                    assert await cell(page, f"{hot} td.name") == "Red Floral Dress"
                    assert await cell(page, f"{hot} td.views") == str(views)
                    assert await cell(page, f"{hot} td.cart-adds") == str(buyers)
                    assert await cell(page, f"{hot} td.orders") == str(buyers)
                    dresses = "table.hot-categories tr[data-code='dresses']"
                    assert await cell(page, f"{dresses} td.orders") == str(buyers)
                else:
                    assert await page.locator("table.hot-products").count() == 0
                if email.startswith("admin"):
                    assert await cell(page, "table.zero-results td.query") == ZERO_QUERY  # asked most
                    assert await cell(page, "table.zero-results td.times") == str(len(WEB_ZERO_LOOKERS) + 1)
                    assert await cell(page, "table.misunderstood td.message") == MASKED
                    assert await cell(page, "table.handoffs td.volume") == "1"
                    assert await cell(page, "table.handoffs td.first-response") == f"{FIRST_RESPONSE_MIN} min"
                    assert await cell(page, "table.handoffs td.resolution") == f"{RESOLUTION_MIN} min"
                    assert await cell(page, "table.handoffs td.ratings") == f"{RATING:.1f} of 5 (1 ratings)"
                else:  # shop-wide and staff figures are the admin's
                    assert ZERO_QUERY not in content and 'table class="handoffs"' not in content
                    assert "fallback-rate" not in content and "misunderstood" not in content
                for private in (PHONE, "13812345678", "张三", *WEB_BUYERS, day["ticket"]):
                    assert private not in content  # no shopper's data on any dashboard
                name = email.split("@")[0].replace(".", "-") + "-" + email.split("@")[1].split(".")[0]
                shot = tmp_path / f"dashboard-{name}.png"
                await page.screenshot(path=str(shot), full_page=True)
                assert shot.stat().st_size > 0
                await context.close()
        finally:
            await browser.close()
    assert problems == []  # no CSP violation, no script error
