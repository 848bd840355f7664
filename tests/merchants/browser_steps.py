"""The steps of a merchant's life cycle in a real browser, shared by the end-to-end test
(``test_browser_lifecycle.py``): sign up and apply, review, contract, listing entry and review, a
shopper's purchase in the web chat, the merchant's Telegram notification, shipping.

Each step drives Playwright pages the way a person would (labels, buttons, visible text) and waits for
what that person would see before it returns.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from bot.channels.telegram.session import RecordingSession
from tests.backoffice.conftest import PASSWORD
from tests.http.test_browser import ADDRESS, TIMEOUT_MS
from tests.merchants.listing_helpers import PNG as PHOTO_PNG

FIELD_LABELS = {
    "company_name": "Company name",
    "legal_representative": "Legal representative",
    "contact_name": "Contact person",
    "contact_phone": "Contact phone",
    "contact_email": "Contact email",
}
CODE = "SILK1"
NAME_ZH = "真丝吊带长裙"
CLAIM = "全网最好的真丝长裙，桑蚕丝面料"
HONEST = "桑蚕丝面料，斜裁设计，适合晚宴"
TRACKING = "SF1234567890"
#: a photo bigger than the app's 64 KiB body limit for webhooks (signed-in uploads may be larger)
PHOTO = PHOTO_PNG + bytes(200_000)


def file(name: str, data: bytes, mime: str) -> dict[str, Any]:
    return {"name": name, "mimeType": mime, "buffer": data}


async def sign_in(page: Any, base_url: str, email: str) -> None:
    await page.goto(base_url + "/admin/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()


async def sign_up(page: Any, base_url: str, email: str, name: str) -> None:
    """A newcomer creates an applicant account on the public sign-up page (and is signed in)."""
    from playwright.async_api import expect

    await page.goto(base_url + "/admin/signup")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Name").fill(name)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_label("Password again").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await expect(page.locator("h1")).to_contain_text(name)


async def apply(page: Any, base_url: str, fields: dict[str, str], files: dict[str, dict[str, Any]]) -> None:
    """Fill the application (the fields given, the files given) and submit it for review."""
    from playwright.async_api import expect

    await page.goto(base_url + "/admin/apply")
    for name, value in fields.items():
        await page.get_by_label(FIELD_LABELS[name]).fill(value)
    for label, upload in files.items():
        await page.get_by_label(label).set_input_files(upload)
    await page.get_by_role("button", name="Submit application").click()
    await expect(page.locator("#application-status")).to_contain_text("Waiting for review")


async def review(page: Any, base_url: str, company: str, *, reject: str | None = None) -> None:
    """The reviewer opens the company's application from the queue and approves it, or rejects it with
    the reason ``reject``."""
    from playwright.async_api import expect

    await page.goto(base_url + "/admin/")
    await page.get_by_role("navigation").get_by_role("link", name="Applications").click()
    await page.get_by_role("link", name=company).click()
    await expect(page.locator("h1")).to_have_text(company)
    href = await page.get_by_role("link", name="Open").first.get_attribute("href")
    licence = await page.request.get(base_url + href)
    assert licence.status == 200  # the reviewer can open the uploaded files
    if reject is None:
        await page.get_by_role("button", name="Approve").click()
    else:
        await page.get_by_label("Reasons").fill(reject)
        await page.get_by_label("Suggestions").fill("Upload a sharper scan of the licence")
        await page.get_by_role("button", name="Reject").click()
    await expect(page.locator("p.notice")).to_contain_text("the applicant was told")


async def accept_contract(page: Any, base_url: str) -> None:
    """Activation: returns address, after-sales policy, payout details, the contract ticked."""
    await page.goto(base_url + "/admin/apply")
    await page.get_by_label("Returns address").fill("No. 1 Tea Street, Hangzhou")
    await page.get_by_label("After-sales policy").fill("7-day returns, no questions asked")
    await page.get_by_label("Payout account holder").fill("Lotus Tea Trading Co.")
    await page.get_by_label("Payout account number").fill("6222020200112233")
    await page.get_by_label("I accept the merchant contract").check()
    await page.get_by_role("button", name="Accept and open my shop").click()


async def open_page(browser: Any, locale: str, problems: list[str]) -> Any:
    context = await browser.new_context(locale=locale)
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    return page


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


async def binding_command(page: Any, base_url: str) -> str:
    """The merchant asks the account page for a one-time code; the ``/bind CODE`` command it shows."""
    await page.goto(base_url + "/admin/account")
    await page.get_by_role("button", name="Get a code").click()
    return str(await page.locator("code.binding-code").text_content()).strip()
