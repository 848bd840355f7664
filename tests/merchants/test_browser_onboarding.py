"""Merchant onboarding in a real browser (R4.2-1, R4.2-2): Playwright driving Debian's chromium
against the whole HTTP app (back office at /admin), two browser contexts (applicant, reviewer).

An applicant signs up and applies with licence files -> a reviewer rejects with a reason -> the
applicant reads it, fixes the licence and resubmits -> the reviewer approves -> the applicant accepts
the contract -> the merchant console opens. The steps are helpers (``sign_up``, ``apply``,
``review``, ``accept_contract``) so the end-to-end flow can go on with listings, an order and
shipping from where this test stops.

Never ``playwright install``: the browser is the distribution's (scripts/ensure-chromium.sh installs it).
"""

from __future__ import annotations

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
from tests.merchants.onboarding_support import COMPANY, PDF, PNG

pytestmark = pytest.mark.slow

REVIEWER = "reviewer@example.com"
APPLICANT = "lotus@example.com"
FIELD_LABELS = {
    "company_name": "Company name",
    "legal_representative": "Legal representative",
    "contact_name": "Contact person",
    "contact_phone": "Contact phone",
    "contact_email": "Contact email",
}


@pytest_asyncio.fixture
async def base_url(runtime: Runtime) -> AsyncIterator[str]:
    commerce = runtime.container.commerce
    commerce.operators.policy = OperatorPolicy(hash_time_cost=1, hash_memory_kib=256, hash_parallelism=1)
    await commerce.operators.create(
        REVIEWER, PASSWORD, OperatorRole.REVIEWER, display_name="Rita", language="en", actor=SYSTEM_ACTOR
    )
    server = TestServer(create_app(runtime), host="127.0.0.1", port=0)
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


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


async def test_apply_reject_fix_resubmit_approve_and_open_the_console(base_url: str, tmp_path: Path) -> None:
    from playwright.async_api import expect

    async_playwright = _playwright()
    problems: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            pages = []
            for _ in range(2):  # the applicant's and the reviewer's own browser sessions
                context = await browser.new_context(viewport={"width": 1024, "height": 900}, locale="en-GB")
                page: Any = await context.new_page()
                page.set_default_timeout(TIMEOUT_MS)
                page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
                pages.append(page)
            applicant, reviewer = pages

            await sign_up(applicant, base_url, APPLICANT, "Lotus")
            await apply(
                applicant,
                base_url,
                COMPANY,
                {
                    "Business licence": file("licence.png", PNG, "image/png"),
                    "Tax registration": file("tax.pdf", PDF, "application/pdf"),
                },
            )
            await sign_in(reviewer, base_url, REVIEWER)
            await review(reviewer, base_url, COMPANY["company_name"], reject="The licence scan is unreadable")

            await applicant.goto(base_url + "/admin/apply")
            status = applicant.locator("#application-status")
            await expect(status).to_contain_text("Rejected")
            await expect(status).to_contain_text("The licence scan is unreadable")
            await apply(  # the fix: a new licence scan; the tax registration stays on record
                applicant,
                base_url,
                {},
                {"Business licence": file("licence2.png", PNG + b"sharper", "image/png")},
            )
            await review(reviewer, base_url, COMPANY["company_name"])

            await applicant.goto(base_url + "/admin/apply")
            await expect(applicant.locator("#application-status")).to_contain_text("accept the contract")
            await accept_contract(applicant, base_url)
            await expect(applicant.locator("h1")).to_have_text("My orders")  # the merchant console
            await expect(applicant.locator("p.notice")).to_contain_text("Your shop is open")
            await expect(
                applicant.get_by_role("navigation").get_by_role("link", name="My products")
            ).to_be_visible()
            await applicant.screenshot(path=str(tmp_path / "merchant-console.png"), full_page=True)
        finally:
            await browser.close()
    assert problems == []  # no CSP violation or script error on any page
