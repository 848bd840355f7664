"""The web chat in a real browser: Playwright driving Debian's chromium against the app on 127.0.0.1.

Never ``playwright install``: the browser is the distribution's (scripts/ensure-chromium.sh installs it).
Locally a missing chromium skips these tests; in CI or with SHOPBOT_REQUIRE_SERVICES=1 it fails them.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer

from bot.http.app import create_app
from bot.runtime import Runtime
from commerce_core.catalog.types import ProductDraft, VariantDraft
from tests.commerce.factory import names
from tests.conftest import missing_service

CHROMIUM = os.environ.get("SHOPBOT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = Path(os.environ.get("SHOPBOT_WEBCHAT_SCREENSHOT", "/tmp/webchat.png"))
ADDRESS = "张三 13812345678 上海市浦东新区世纪大道100号"
TIMEOUT_MS = 20_000

pytestmark = pytest.mark.slow


def _playwright() -> Any:
    try:
        from playwright.async_api import async_playwright
    except ImportError as exc:
        missing_service("Playwright (pip install -c constraints.txt -e '.[dev]')", exc)
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)) and not shutil.which(CHROMIUM):
        missing_service(
            f"Debian's chromium at {CHROMIUM} (scripts/ensure-chromium.sh installs it)",
            FileNotFoundError(CHROMIUM),
        )
    return async_playwright


@pytest_asyncio.fixture
async def base_url(runtime: Runtime) -> AsyncIterator[str]:
    # One product with a picture, so the list and the card show real images (the others show a fallback).
    commerce = runtime.container.commerce
    await commerce.catalog.create_product(
        ProductDraft(
            "X1",
            "acme",
            "dresses",
            names("红色丝绒连衣裙", "Red Velvet Dress", "紅色絲絨連衣裙"),
            names("丝绒面料，适合秋冬", "Velvet, for autumn"),
            [VariantDraft("X1-RED-M", {"color": "red", "size": "M"}, 25900, 5)],
            images=["/media/demo/X1-1.svg"],
        )
    )
    await commerce.catalog.publish("X1")
    await runtime.refresh_catalogue()
    server = TestServer(create_app(runtime), host="127.0.0.1", port=0)
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


@pytest_asyncio.fixture
async def page(base_url: str) -> AsyncIterator[Any]:
    async_playwright = _playwright()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        context = await browser.new_context(
            viewport={"width": 375, "height": 844}, device_scale_factor=1, locale="zh-CN", is_mobile=False
        )
        page = await context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))

        async def on_dialog(dialog: Any) -> None:
            problems.append(f"dialog: {dialog.message}")
            await dialog.dismiss()

        page.on("dialog", on_dialog)
        page.problems = problems  # type: ignore[attr-defined]
        try:
            yield page
        finally:
            await context.close()
            await browser.close()


async def send(page: Any, text: str) -> None:
    await page.get_by_label(re.compile("消息|Message")).fill(text)
    await page.keyboard.press("Enter")


async def scrolled_to_the_end(page: Any) -> None:
    """The log scrolls smoothly; wait until it rests at the newest message (CSP forbids wait_for_function)."""
    for _ in range(50):
        gap = await page.evaluate(
            "(l => l.scrollHeight - l.scrollTop - l.clientHeight)(document.getElementById('log'))"
        )
        if gap < 2:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the log did not scroll to the newest message")


async def test_search_to_a_paid_order_in_the_browser(page: Any, base_url: str) -> None:
    from playwright.async_api import expect

    await page.goto(base_url + "/")
    await expect(page.locator("#log")).to_contain_text("购物助手")
    await send(page, "有没有红色连衣裙")
    listing = page.locator(".card-list").last
    await expect(listing).to_be_visible()
    # the server named this browser's session in an HttpOnly cookie; the page keeps no user id
    [cookie] = [c for c in await page.context.cookies() if c["name"] == "shopbot_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert "shopbot_session" not in await page.evaluate("document.cookie")
    assert await page.evaluate("localStorage.getItem('shopbot.user')") is None
    await expect(listing.locator(".product")).to_have_count(2)
    await expect(listing).to_contain_text("¥199.00")
    # The pictured product's thumbnail really loads (same origin, allowed by the CSP).
    thumb = listing.locator("img[src='/media/demo/X1-1.svg']")
    await expect(thumb).to_have_count(1)
    await thumb.evaluate("img => img.complete || new Promise(r => img.addEventListener('load', r))")
    assert await thumb.evaluate("img => img.naturalWidth") > 0

    await listing.locator(".product", has_text="红色碎花连衣裙").click()
    card = page.locator(".card-product").last
    await expect(card.locator(".product-name")).to_have_text("红色碎花连衣裙")
    await expect(card).to_contain_text("尺码：M、L")
    await card.get_by_role("button", name="加入购物车").click()

    await page.get_by_role("button", name="红色 L ¥199.00").click()
    await expect(page.locator("#log")).to_contain_text("已把 1 件")
    await page.locator(".row-bot").last.get_by_role("button", name="查看购物车").click()
    cart = page.locator(".card-cart").last
    await expect(cart.locator(".line-title")).to_have_text("红色碎花连衣裙")
    await expect(cart.locator(".total")).to_have_text("小计：¥199.00")
    await expect(cart.locator(".step[aria-label='＋ 红色碎花连衣裙']")).to_be_visible()
    await cart.get_by_role("button", name="去结算").click()

    await expect(page.locator("#log")).to_contain_text("姓名、手机号、地址")
    await send(page, ADDRESS)
    await expect(page.locator("#log")).to_contain_text("应付：¥199.00")
    await page.get_by_role("button", name="确认下单").last.click()

    order = page.locator(".card-order").last
    await expect(order).to_contain_text("待付款")
    payment = page.locator(".card-payment").last
    await expect(payment.locator(".amount-value")).to_have_text("¥199.00")
    number = (await payment.locator(".amount-order").text_content()).lstrip("#")
    assert re.fullmatch(r"[A-Z0-9]{8,}", number)
    await payment.get_by_role("button", name=re.compile("沙箱")).click()

    pushed = page.locator(".is-pushed").last
    await expect(pushed).to_contain_text("已收到订单")
    await expect(pushed).to_contain_text(number)
    await expect(pushed.locator(".badge-pushed")).to_be_visible()

    # Mobile width: nothing sticks out sideways.
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375
    await scrolled_to_the_end(page)
    await page.screenshot(path=str(SCREENSHOT))
    # And the whole conversation on one tall picture, for a person to look over.
    height = await page.evaluate("document.getElementById('log').scrollHeight + 140")
    await page.set_viewport_size({"width": 375, "height": min(height, 8000)})
    await page.screenshot(path=str(SCREENSHOT.with_name(SCREENSHOT.stem + "-full.png")))
    assert page.problems == []


async def test_markup_typed_or_sent_back_is_shown_as_literal_text(page: Any, base_url: str) -> None:
    from playwright.async_api import expect

    evil = "<img src=x onerror=alert(1)>"
    await page.goto(base_url + "/")
    await send(page, evil)
    await expect(page.locator(".bubble-user").last).to_have_text(evil)
    await expect(page.locator(".row-bot:not(.typing-row)").nth(1)).to_be_visible()  # the bot answered
    assert await page.locator("#log img[src='x']").count() == 0
    assert await page.evaluate("window.__xss === undefined")
    assert page.problems == []


def _every_reply_type(evil: str) -> list[dict[str, Any]]:
    line = {
        "title": evil,
        "options": evil,
        "quantity": 2,
        "unit_price": "¥1.00",
        "line_total": "¥2.00",
        "sku": "S1",
    }
    button = {"label": evil, "payload": "help"}
    return [
        {"type": "text", "text": evil, "buttons": [button]},
        {
            "type": "product_list",
            "text": evil,
            "buttons": [{"label": "more", "payload": "more"}],
            "data": {
                "title": evil,
                "items": [
                    {
                        "position": 1,
                        "code": "D1",
                        "title": evil,
                        "price": evil,
                        "image": "javascript:alert(1)",
                        "available": 0,
                        "reason": evil,
                    }
                ],
                "page": 1,
                "has_more": True,
                "total": 1,
            },
        },
        {
            "type": "product_card",
            "text": evil,
            "buttons": [button],
            "data": {
                "code": "D1",
                "title": evil,
                "price": evil,
                "description": evil,
                "image": None,
                "available": 1,
                "options": [evil],
                "reason": evil,
            },
        },
        {
            "type": "cart",
            "text": evil,
            "buttons": [{"label": evil, "payload": "inc:S1"}, button],
            "data": {"title": evil, "lines": [line], "subtotal": evil, "notes": [evil]},
        },
        {
            "type": "order",
            "text": evil,
            "buttons": [button],
            "data": {
                "number": "N1",
                "title": evil,
                "status": evil,
                "lines": [line],
                "total": evil,
                "address": evil,
                "notes": [evil],
            },
        },
        {
            "type": "payment",
            "text": evil,
            "buttons": [button],
            "data": {
                "order_number": evil,
                "payment_id": "P1",
                "provider": "x",
                "amount": 1,
                "currency": "CNY",
                "amount_display": evil,
                "pay_url": "javascript:alert(1)",
            },
        },
        {
            "type": "tracking",
            "text": evil,
            "buttons": [],
            "data": {
                "order_number": "N1",
                "tracking_number": "T1",
                "title": evil,
                "status": evil,
                "eta": evil,
                "events": [{"at": evil, "text": evil}],
            },
        },
        {
            "type": "file",
            "text": evil,
            "buttons": [],
            "content_base64": base64.b64encode(b'{"ok": true}').decode(),
            "data": {"filename": evil, "mime_type": "application/json"},
        },
        {
            "type": "handoff",
            "text": evil,
            "buttons": [],
            "data": {"ticket_number": evil, "queue_position": 3},
        },
        {"type": "text", "text": evil, "buttons": [], "pushed": True},
    ]


async def test_every_reply_type_renders_server_strings_as_text(page: Any, base_url: str) -> None:
    """A hostile server answer (every reply type, markup in every field) never becomes markup."""
    from playwright.async_api import expect

    evil = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    replies = _every_reply_type(evil)

    async def fulfil(route: Any) -> None:
        await route.fulfill(
            status=200, content_type="application/json", body=json.dumps({"replies": replies})
        )

    await page.route("**/api/chat", fulfil)
    await page.goto(base_url + "/")
    await send(page, "hello")
    log = page.locator("#log")
    await expect(log.locator(".bubble.is-pushed")).to_have_count(1)
    for kind in ("product_list", "product_card", "cart", "order", "payment", "tracking", "file", "handoff"):
        await expect(log.locator(f"[data-type='{kind}']")).to_have_count(1)
    assert await log.locator("img").count() == 0  # no injected picture, and no javascript: picture either
    assert await log.locator("script").count() == 0
    assert await log.locator("a[href^='javascript:']").count() == 0
    assert await page.evaluate("window.__xss === undefined")
    await expect(log.locator(".card-product .product-name")).to_have_text(evil)
    await expect(log.locator(".card-list .product .reason")).to_have_text(evil)  # a list item's why, as text
    await expect(log.locator(".card-cart .step[data-payload='inc:S1']")).to_be_enabled()
    download = log.locator(".card-file a.file")
    assert (await download.get_attribute("href") or "").startswith("blob:")
    assert await download.get_attribute("download") == evil.replace("/", "_")
    await expect(log.locator(".card-handoff dd").first).to_have_text(evil)
    assert page.problems == []


async def test_language_picker_and_a_reload_keep_the_conversation(page: Any, base_url: str) -> None:
    from playwright.async_api import expect

    await page.goto(base_url + "/")
    english = page.get_by_role("button", name="EN", exact=True)
    await english.click()
    await expect(english).to_have_attribute("aria-pressed", "true")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator(".bubble-user").last).to_have_text("English")
    await expect(page.locator(".row-bot:not(.typing-row)")).to_have_count(2)  # the bot confirmed the switch
    await send(page, "red dress")
    await expect(page.locator(".card-list").last).to_contain_text("Red Floral Dress")

    session = [c["value"] for c in await page.context.cookies() if c["name"] == "shopbot_session"]
    await page.reload()
    assert [c["value"] for c in await page.context.cookies() if c["name"] == "shopbot_session"] == session
    await expect(page.get_by_placeholder(re.compile("red dress"))).to_be_visible()
    await expect(page.locator(".card-list").last).to_contain_text("Red Floral Dress")
    await page.locator(".card-list .product").first.click()
    await expect(page.locator(".card-product").last.locator(".product-name")).to_have_text("Red Floral Dress")
    assert page.problems == []
