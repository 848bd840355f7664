"""A listing's whole life in real browsers (R4.3-1/2/3, R4.1-2, R4.4-1/3): Playwright driving Debian's
chromium, three browser contexts (merchant, reviewer, shopper) on one server (web chat at /, back
office at /admin) with the background jobs and the outbox relay running as in production, and the
merchant's Telegram chat recorded by the bot session.

An active merchant adds a product whose description says "全网最好" -> the automated check flags it
and the reviewer sees the flag -> the merchant edits it -> the reviewer approves -> a shopper finds
and buys it in the web chat (sandbox payment, development) -> the merchant's console shows the order
without a reload and the merchant's Telegram chat gets the order -> the merchant ships with a
tracking number -> the shopper's chat shows the shipment.

The story starts from a seeded active merchant (acme, with its owner's account); the onboarding steps
come before it as more helpers of the same kind. Never ``playwright install``: the browser is the
distribution's (scripts/ensure-chromium.sh installs it).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer

from bot.channels.telegram.session import RecordingSession
from bot.http.app import create_app
from bot.runtime import Runtime
from commerce_core.api import SYSTEM_ACTOR, OperatorRole
from tests.backoffice.conftest import PASSWORD
from tests.http.test_browser import ADDRESS, CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, _playwright
from tests.merchants.conftest import Team, bind
from tests.merchants.listing_helpers import PNG

pytestmark = pytest.mark.slow

MERCHANT = "owner@acme.example"
REVIEWER = "reviewer@shop.example"
OWNER_CHAT = "8301"
CODE = "SILK1"
NAME_ZH = "真丝吊带长裙"
CLAIM = "全网最好的真丝长裙，桑蚕丝面料"
HONEST = "桑蚕丝面料，斜裁设计，适合晚宴"
TRACKING = "SF1234567890"
#: a photo bigger than the app's 64 KiB body limit for webhooks (signed-in uploads may be larger)
PHOTO = PNG + bytes(200_000)


@pytest_asyncio.fixture
async def base_url(runtime: Runtime, team: Team) -> AsyncIterator[str]:
    """The whole HTTP app with the jobs running; a reviewer account; the merchant's chat bound."""
    commerce = runtime.commerce
    await commerce.operators.create(
        REVIEWER, PASSWORD, OperatorRole.REVIEWER, display_name="Rita", language="en", actor=SYSTEM_ACTOR
    )
    await bind(commerce, team.owner_a, OWNER_CHAT)
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


async def open_page(browser: Any, locale: str, problems: list[str]) -> Any:
    context = await browser.new_context(locale=locale)
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    return page


async def sign_in(page: Any, base_url: str, email: str) -> None:
    await page.goto(base_url + "/admin/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name=re.compile("Sign in|Log in", re.IGNORECASE)).click()


async def merchant_adds_listing(page: Any, base_url: str, description: str) -> None:
    """The merchant enters a product with a photo and one variant, and submits it to review."""
    from playwright.async_api import expect

    await page.goto(base_url + "/admin/merchant/products")
    await page.get_by_role("link", name="New listing").click()
    await page.get_by_label("Product code").fill(CODE)
    await page.get_by_label("Category").select_option("dresses")
    await page.get_by_label("Name (Chinese)").fill(NAME_ZH)
    await page.get_by_label("Name (English)").fill("Silk slip maxi dress")
    await page.get_by_label("Description (Chinese)").fill(description)
    await page.get_by_label("Material").fill("mulberry silk")
    await page.get_by_label("Usage").fill("evening")
    await page.get_by_label("Photos").set_input_files(
        files=[{"name": "silk.png", "mimeType": "image/png", "buffer": PHOTO}]
    )
    await page.get_by_label("Colour 1").fill("black")
    await page.get_by_label("Size 1").fill("M")
    await page.get_by_label("Price 1").fill("599")
    await page.get_by_label("Stock 1").fill("3")
    await page.get_by_role("button", name="Submit for review").click()
    await expect(page.locator("main")).to_contain_text("Submitted.")


async def reviewer_opens_item(page: Any, base_url: str) -> Any:
    """The reviewer opens the listing's open item from the queue; the page's findings section."""
    await page.goto(base_url + "/admin/review/listings")
    await page.locator("#review-queue tr.review-item", has_text=CODE).get_by_role("link").first.click()
    return page.locator(".findings, .no-findings")


async def merchant_edits_description(page: Any, base_url: str, description: str) -> None:
    from playwright.async_api import expect

    await page.goto(base_url + f"/admin/merchant/listings/{CODE}")
    await page.get_by_label("Description (Chinese)").fill(description)
    await page.get_by_role("button", name="Send the changes to review").click()
    await expect(page.locator("main")).to_contain_text("Your changes were sent to review.")
    await expect(page.locator("#pending")).to_contain_text("The automated checks found nothing.")


async def say(page: Any, text: str) -> None:
    await page.get_by_label(re.compile("消息|Message")).fill(text)
    await page.keyboard.press("Enter")


async def shopper_buys(page: Any, base_url: str) -> str:
    """The shopper searches, opens the card, buys with the sandbox payment; the order number."""
    from playwright.async_api import expect

    await page.goto(base_url + "/")
    await say(page, f"有没有{NAME_ZH}")
    card = page.locator(".card-product", has_text=NAME_ZH).last
    in_list = page.locator(".card-list .product", has_text=NAME_ZH).first
    await expect(card.or_(in_list)).to_be_visible()  # the only match comes as its card, else in a list
    if not await card.count():
        await in_list.click()
    await expect(card.locator(".product-name")).to_have_text(NAME_ZH)
    await expect(card).to_contain_text(HONEST)
    await card.get_by_role("button", name="加入购物车").click()
    await expect(page.locator("#log")).to_contain_text("已把 1 件")
    await page.locator(".row-bot").last.get_by_role("button", name="查看购物车").click()
    await page.locator(".card-cart").last.get_by_role("button", name="去结算").click()
    await expect(page.locator("#log")).to_contain_text("姓名、手机号、地址")
    await say(page, ADDRESS)
    await page.get_by_role("button", name="确认下单").last.click()
    payment = page.locator(".card-payment").last
    await expect(payment.locator(".amount-value")).to_have_text("¥599.00")
    number = str(await payment.locator(".amount-order").text_content()).lstrip("#")
    await payment.get_by_role("button", name=re.compile("沙箱")).click()
    await expect(page.locator(".is-pushed").last).to_contain_text(number)
    return number


async def telegram_messages(session: RecordingSession, chat: str, containing: str) -> list[str]:
    """The bot's messages to ``chat`` that contain ``containing``, waiting for the first one."""
    for _ in range(200):
        found = [
            str(c.params.get("text"))
            for c in session.calls
            if c.method == "sendMessage" and c.chat_id == chat and containing in str(c.params.get("text"))
        ]
        if found:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"no Telegram message to {chat} with {containing!r}")


async def merchant_ships(page: Any, number: str) -> None:
    from playwright.async_api import expect

    await page.locator("tr", has_text=number).get_by_role("link").first.click()
    await page.get_by_label("Carrier").fill("SF Express")
    await page.get_by_label("Tracking number").fill(TRACKING)
    await page.get_by_role("button", name="Ship my part").click()
    await expect(page.locator("main")).to_contain_text("Shipped.")


async def test_a_flagged_listing_is_fixed_approved_bought_and_shipped(
    base_url: str, session: RecordingSession
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
            await sign_in(merchant, base_url, MERCHANT)
            await sign_in(reviewer, base_url, REVIEWER)

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
            told = await telegram_messages(session, OWNER_CHAT, number)
            assert NAME_ZH in told[0] or "Silk slip maxi dress" in told[0]

            await merchant_ships(merchant, number)
            await expect(shopper.locator(".is-pushed").last).to_contain_text(TRACKING)
        finally:
            await browser.close()
    assert problems == []
