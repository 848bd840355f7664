"""The back office in a real browser: Playwright driving Debian's chromium against the whole HTTP app
(``create_app`` mounts the back office at /admin), signing in and out under the strict CSP.

Never ``playwright install``: the browser is the distribution's (scripts/ensure-chromium.sh installs it).
Locally a missing chromium skips this test; in CI or with SHOPBOT_REQUIRE_SERVICES=1 it fails it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer

from bot.http.app import create_app
from bot.runtime import Runtime
from commerce_core.api import SYSTEM_ACTOR, OperatorPolicy, OperatorRole
from tests.backoffice.conftest import PASSWORD
from tests.http.test_browser import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, _playwright

pytestmark = pytest.mark.slow


@pytest_asyncio.fixture
async def base_url(runtime: Runtime) -> AsyncIterator[str]:
    commerce = runtime.container.commerce
    commerce.operators.policy = OperatorPolicy(hash_time_cost=1, hash_memory_kib=256, hash_parallelism=1)
    admin = OperatorRole.ADMIN
    await commerce.operators.create(
        "admin@example.com", PASSWORD, admin, display_name="Ada", language="en", actor=SYSTEM_ACTOR
    )
    server = TestServer(create_app(runtime), host="127.0.0.1", port=0)
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


async def test_an_admin_signs_in_filters_the_audit_log_and_signs_out(base_url: str, tmp_path: Path) -> None:
    from playwright.async_api import expect

    async_playwright = _playwright()
    problems: list[str] = []
    async with async_playwright() as playwright:
        chromium = playwright.chromium
        browser = await chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1024, "height": 768}, locale="en-GB")
            page: Any = await context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            # A CSP violation (inline script or style, a foreign host) shows up as a console error.
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)

            await page.goto(base_url + "/admin/")
            await expect(page).to_have_url(re.compile(r"/admin/login$"))
            await page.get_by_label("Email").fill("admin@example.com")
            await page.get_by_label("Password").fill(PASSWORD)
            await page.get_by_role("button", name="Sign in").click()
            await expect(page.locator("h1")).to_have_text("Hello, Ada")
            assert await page.evaluate("typeof window.htmx") == "object"  # the vendored script ran

            await page.get_by_role("navigation").get_by_role("link", name="Audit log").click()
            await page.get_by_label("Action").fill("login.succeeded")
            await page.get_by_role("button", name="Filter").click()
            results = page.locator("#audit-results tbody tr")
            await expect(results).to_have_count(1)
            await expect(results).to_contain_text("admin@example.com")
            await expect(page).to_have_url(re.compile(r"action=login\.succeeded"))  # htmx pushed the filter
            await page.screenshot(path=str(tmp_path / "backoffice-audit.png"), full_page=True)
            # htmx keeps no copy of back-office pages in the browser's storage (its history cache is off)
            assert await page.evaluate("sessionStorage.getItem('htmx-history-cache')") is None

            await page.get_by_role("button", name="Log out", exact=True).click()
            await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
            await page.goto(base_url + "/admin/users")
            await expect(page).to_have_url(re.compile(r"/admin/login$"))  # the session really ended
            await page.screenshot(path=str(tmp_path / "backoffice-logged-out.png"))
            await context.close()
        finally:
            await browser.close()
    assert (tmp_path / "backoffice-audit.png").stat().st_size > 0
    assert problems == []
