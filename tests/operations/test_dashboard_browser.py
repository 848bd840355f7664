"""R6.1-1/2, R6.2-2 in a real browser (Playwright, Debian's chromium): after a scripted day of traffic
through the real pipeline, the admin's and a merchant owner's dashboards draw their charts with the
vendored Chart.js under the strict CSP (no console error) and show the figures that day implies;
screenshots are saved. Locally a missing chromium skips this test; in CI it fails it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.runtime import Runtime
from tests.backoffice.conftest import PASSWORD
from tests.http.test_browser import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, _playwright
from tests.operations.conftest import Client
from tests.operations.test_dashboard import ZERO_QUERY, operators, scripted_day

pytestmark = pytest.mark.slow
#: the figures of every drawn chart, read back from Chart.js itself
CHARTS = (
    "Array.from(document.querySelectorAll('canvas')).map(c => c.chart ? c.chart.data.datasets[0].data : null)"
)


async def sign_in(page: Any, base: str, email: str) -> None:
    await page.goto(base + "/admin/login")
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("form.card button[type=submit]")
    await page.wait_for_load_state()


async def test_dashboards_draw_the_days_figures(client: Client, runtime: Runtime, tmp_path: Path) -> None:
    _, total = await scripted_day(client, runtime)
    await operators(runtime)
    base = str(client.make_url("")).rstrip("/")
    async_playwright = _playwright()
    problems: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            for email, expected in (
                ("admin@example.com", [4, 1, 1, 1, 1]),
                ("owner@acme.example", [1, 1, 1, 1]),
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
                charts = await page.evaluate(CHARTS)
                assert charts[0] == expected  # the funnel as drawn
                assert sum(charts[1]) == 1  # one order today
                if email.startswith("admin"):
                    assert charts[2] == [2] and ZERO_QUERY in await page.content()
                else:
                    assert len(charts) == 2 and ZERO_QUERY not in await page.content()
                name = email.split("@")[0]
                await page.screenshot(path=str(tmp_path / f"dashboard-{name}.png"), full_page=True)
                assert (tmp_path / f"dashboard-{name}.png").stat().st_size > 0
                await context.close()
        finally:
            await browser.close()
    assert total > 0
    assert problems == []  # no CSP violation, no script error
