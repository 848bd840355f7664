"""A merchant's whole life cycle in real browsers, as issue 13's "must show" asks (R4.2-1, R4.2-2,
R4.3-1/2/3, R4.1-2, R4.4-1/3): Playwright driving Debian's chromium against one server (web chat at /,
back office at /admin, the Telegram webhook) with the background jobs and the outbox relay running as
in production, and the merchant's Telegram chat recorded by the bot session.

An applicant signs up and applies with licence files -> a reviewer rejects with a reason -> the
applicant reads it, fixes the licence and resubmits -> the reviewer approves -> the applicant accepts
the contract and the console opens -> the same merchant links its Telegram chat with the one-time code
from its account page -> adds a product whose description says "全网最好" -> the automated check flags
it and the reviewer sees the flag -> the merchant edits it -> the reviewer approves -> a shopper finds
and buys it in the web chat -> the merchant's console shows the order without a reload and the
merchant's Telegram chat gets the order -> the merchant ships with a tracking number -> the shopper's
chat shows the shipment.

One server start for the module (one test). Never ``playwright install``: the browser is the
distribution's (scripts/ensure-chromium.sh installs it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.session import RecordingSession
from bot.http.app import create_app
from bot.runtime import Runtime
from commerce_core.api import SYSTEM_ACTOR, OperatorPolicy, OperatorRole
from tests.backoffice.conftest import PASSWORD
from tests.http.test_browser import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, _playwright
from tests.merchants.browser_steps import (
    CLAIM,
    HONEST,
    NAME_ZH,
    TRACKING,
    accept_contract,
    apply,
    binding_command,
    file,
    merchant_adds_listing,
    merchant_edits_description,
    merchant_ships,
    open_page,
    review,
    reviewer_opens_item,
    shopper_buys,
    sign_in,
    sign_up,
    telegram_messages,
)
from tests.merchants.onboarding_support import COMPANY, PDF, PNG
from tests.telegram.conftest import SECRET, Shopper

pytestmark = pytest.mark.slow

REVIEWER = "reviewer@example.com"
APPLICANT = "lotus@example.com"
MERCHANT_CHAT = 8301


@pytest_asyncio.fixture
async def base_url(runtime: Runtime) -> AsyncIterator[str]:
    """The whole HTTP app with the jobs running, and a reviewer account; nothing else is seeded for
    the merchant: it is made in the browser."""
    commerce = runtime.commerce
    commerce.operators.policy = OperatorPolicy(hash_time_cost=1, hash_memory_kib=256, hash_parallelism=1)
    await commerce.operators.create(
        REVIEWER, PASSWORD, OperatorRole.REVIEWER, display_name="Rita", language="en", actor=SYSTEM_ACTOR
    )
    server = TestServer(create_app(runtime), host="127.0.0.1", port=0)
    await server.start_server()
    jobs = asyncio.create_task(runtime.run_jobs(interval=0.5))  # the outbox relay delivers pushes
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        runtime.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(jobs, 10)
        await server.close()


async def send_to_bot(base_url: str, channel: TelegramChannel, text: str) -> None:
    """The merchant types ``text`` to the bot in Telegram: the update arrives on the webhook and the
    channel's worker takes it."""
    update = Shopper(user_id=MERCHANT_CHAT, lang="en", name="Lotus").text(text)
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as http:
        response = await http.post(base_url + "/telegram/webhook", data=json.dumps(update), headers=headers)
        assert response.status == 200
    await channel.drain()


async def onboard(applicant: Any, reviewer: Any, base_url: str) -> None:
    """Apply -> rejected with a reason -> fix and resubmit -> approved -> contract -> console."""
    from playwright.async_api import expect

    await sign_up(applicant, base_url, APPLICANT, "Lotus")
    licence = file("licence.png", PNG, "image/png")
    await apply(
        applicant,
        base_url,
        COMPANY,
        {"Business licence": licence, "Tax registration": file("tax.pdf", PDF, "application/pdf")},
    )
    await sign_in(reviewer, base_url, REVIEWER)
    await review(reviewer, base_url, COMPANY["company_name"], reject="The licence scan is unreadable")

    await applicant.goto(base_url + "/admin/apply")
    status = applicant.locator("#application-status")
    await expect(status).to_contain_text("Rejected")
    await expect(status).to_contain_text("The licence scan is unreadable")
    sharper = file("licence2.png", PNG + b"sharper", "image/png")
    await apply(applicant, base_url, {}, {"Business licence": sharper})  # the tax file stays on record
    await review(reviewer, base_url, COMPANY["company_name"])

    await applicant.goto(base_url + "/admin/apply")
    await expect(applicant.locator("#application-status")).to_contain_text("accept the contract")
    await accept_contract(applicant, base_url)
    await expect(applicant.locator("h1")).to_have_text("My orders")  # the merchant console
    await expect(applicant.locator("p.notice")).to_contain_text("Your shop is open")


async def test_applicant_becomes_a_merchant_whose_fixed_listing_is_bought_and_shipped(
    base_url: str, session: RecordingSession, channel: TelegramChannel
) -> None:
    from playwright.async_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    problems: list[str] = []
    async with _playwright()() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            merchant = await open_page(browser, "en-GB", problems)
            reviewer = await open_page(browser, "en-GB", problems)
            shopper = await open_page(browser, "zh-CN", problems)
            await onboard(merchant, reviewer, base_url)

            # the new merchant links its Telegram chat with the code from its account page
            await send_to_bot(base_url, channel, await binding_command(merchant, base_url))

            await merchant_adds_listing(merchant, base_url, CLAIM)
            await expect(merchant.locator("#pending")).to_contain_text("Absolute or false advertising terms")
            findings = await reviewer_opens_item(reviewer, base_url)
            await expect(findings).to_contain_text("Absolute or false advertising terms")
            await expect(findings).to_contain_text("全网最好")

            await merchant_edits_description(merchant, base_url, HONEST)
            findings = await reviewer_opens_item(reviewer, base_url)
            await expect(findings).to_contain_text("The automated checks found nothing.")
            await expect(reviewer.locator("#proposed")).to_contain_text(HONEST)
            await reviewer.get_by_role("button", name="Approve").click()
            await expect(reviewer.locator("main")).to_contain_text("Approved.")

            await merchant.goto(base_url + "/admin/merchant/orders")
            number = await shopper_buys(shopper, base_url)
            row = merchant.locator("tr.to-ship", has_text=number)
            await expect(row).to_be_visible()  # arrived without a reload: the rows poll themselves
            told = await telegram_messages(session, str(MERCHANT_CHAT), number)
            assert NAME_ZH in told[0] or "Silk slip maxi dress" in told[0]

            await merchant_ships(merchant, number)
            await expect(shopper.locator(".is-pushed").last).to_contain_text(TRACKING)
        finally:
            await browser.close()
    assert problems == []  # no CSP violation or script error on any page
