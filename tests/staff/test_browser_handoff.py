"""The live handoff in a real browser: Playwright driving Debian's chromium, two browser contexts on
one server (the whole HTTP app: web chat at /, back office at /admin) with the background jobs and the
outbox relay running as in production. A shopper asks for a person; the agent's console shows it
without a reload; the agent's reply appears in the shopper's chat without a reload and the shopper's
answer in the console; the agent resolves and the bot answers the shopper's next message. In English,
then in Simplified Chinese.

Never ``playwright install``: the browser is the distribution's (scripts/ensure-chromium.sh installs it).
"""

from __future__ import annotations

import asyncio
import contextlib
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
from tests.runtime_support import sqlite_copy

pytestmark = pytest.mark.slow

ROUNDS = {
    "en": {
        "locale": "en-GB",
        "ask": "let me talk to a human",
        "queued": "connecting you to a person",
        "reply": "Hello, this is Amy. Your parcel left today.",
        "answer": "Thanks Amy, that is all",
        "resolved": "How did they do?",
    },
    "zh-Hans": {
        "locale": "zh-CN",
        "ask": "转人工客服",
        "queued": "正在为您转接人工客服",
        "reply": "您好，我是客服小美，您的包裹今天已发出。",
        "answer": "好的谢谢，没有别的了",
        "resolved": "请为本次服务打分",
    },
}


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """One database is enough for the browser (the state machine runs on both in test_handoff_state)."""
    return sqlite_copy(request, tmp_path)


@pytest_asyncio.fixture
async def base_url(runtime: Runtime) -> AsyncIterator[str]:
    commerce = runtime.container.commerce
    commerce.operators.policy = OperatorPolicy(hash_time_cost=1, hash_memory_kib=256, hash_parallelism=1)
    await commerce.operators.create(
        "agent@example.com",
        PASSWORD,
        OperatorRole.AGENT,
        display_name="Amy",
        language="en",
        actor=SYSTEM_ACTOR,
    )
    server = TestServer(create_app(runtime), host="127.0.0.1", port=0)
    await server.start_server()
    jobs = asyncio.create_task(runtime.run_jobs(interval=0.5))  # the outbox relay delivers the replies
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        runtime._stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(jobs, 10)
        await server.close()


async def _say(page: Any, text: str) -> None:
    await page.get_by_label(re.compile("消息|Message")).fill(text)
    await page.keyboard.press("Enter")


async def test_a_person_takes_over_and_hands_back_in_two_browsers(base_url: str) -> None:
    from playwright.async_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    async_playwright = _playwright()
    problems: list[str] = []
    async with async_playwright() as playwright:
        chromium = playwright.chromium
        browser = await chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            console_context = await browser.new_context(locale="en-GB")
            console: Any = await console_context.new_page()
            console.set_default_timeout(TIMEOUT_MS)
            console.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            console.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            await console.goto(base_url + "/admin/login")
            await console.get_by_label("Email").fill("agent@example.com")
            await console.get_by_label("Password").fill(PASSWORD)
            await console.get_by_role("button", name=re.compile("Sign in|Log in", re.IGNORECASE)).click()
            for words in ROUNDS.values():
                shopper_context = await browser.new_context(locale=words["locale"])
                shopper: Any = await shopper_context.new_page()
                shopper.set_default_timeout(TIMEOUT_MS)
                shopper.on("pageerror", lambda e: problems.append(f"page error: {e}"))
                await shopper.goto(base_url + "/")
                await console.goto(base_url + "/admin/agent")
                queue = console.locator("#queue")

                await _say(shopper, words["ask"])
                await expect(shopper.locator("#log")).to_contain_text(words["queued"])
                row = queue.locator("tr.ticket").first
                await expect(row).to_be_visible()  # arrived without a reload, through the live stream
                await row.get_by_role("link").click()
                await console.get_by_role("button", name="Claim").click()
                await console.get_by_label("Reply to the shopper").fill(words["reply"])
                await console.get_by_role("button", name="Send", exact=True).click()
                await expect(shopper.locator("#log")).to_contain_text(words["reply"])

                await _say(shopper, words["answer"])
                await expect(console.locator("#conversation")).to_contain_text(words["answer"])
                await console.get_by_role("button", name="Resolve and hand back to the bot").click()
                await expect(console.locator("main")).to_contain_text("Resolved")
                await expect(shopper.locator("#log")).to_contain_text(words["resolved"])

                bot_rows = shopper.locator(".row-bot")
                before = await bot_rows.count()
                await _say(shopper, "help")
                await expect(bot_rows).to_have_count(before + 1)  # the bot answers again
                await shopper_context.close()

            # a shopper who changes their mind leaves the queue by typing "取消": told at once, and the
            # waiting row leaves the agent's queue without a reload
            leaver_context = await browser.new_context(locale="zh-CN")
            leaver: Any = await leaver_context.new_page()
            leaver.set_default_timeout(TIMEOUT_MS)
            leaver.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            await leaver.goto(base_url + "/")
            # the console's live stream connects only after the leaver's ticket exists (as a slow
            # network or a busy server can make it): the page was rendered without the ticket and the
            # stream starts with it, so no event says "changed"; the console must show it all the same
            ticket_created = asyncio.Event()

            async def late_stream(route: Any) -> None:
                await ticket_created.wait()
                await route.continue_()

            await console.route("**/admin/agent/stream*", late_stream)
            await console.goto(base_url + "/admin/agent")
            waiting = console.locator("#queue tr.ticket")
            await expect(waiting).to_have_count(0)
            await _say(leaver, "转人工客服")
            await expect(leaver.locator("#log")).to_contain_text("正在为您转接人工客服")
            ticket_created.set()
            await expect(waiting).to_have_count(1)
            await console.unroute("**/admin/agent/stream*")
            await _say(leaver, "取消")
            await expect(leaver.locator("#log")).to_contain_text("您已离开排队")
            await expect(waiting).to_have_count(0)
            await leaver_context.close()
        finally:
            await browser.close()
    assert problems == []
