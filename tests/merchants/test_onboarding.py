"""Merchant onboarding with review in the back office over real HTTP (R4.2-1, R4.2-2): the form and its
files (type and size checked, required permits per industry), the reviewer's queue, rejection with
reasons the applicant reads, resubmission, approval, the contract and activation (payout encrypted),
after which the applicant is the merchant's owner and can get a binding code. Files are served to the
reviewer and the applicant only. A chat applicant hears the decision in their language on Telegram."""

from __future__ import annotations

import re

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import text

from bot.channels.telegram.session import RecordingSession
from bot.runtime import Runtime
from commerce_core.api import Actor, Commerce, LocalFileStore, OperatorRole
from commerce_core.merchants.types import Applicant, ApplicationForm, MerchantStatus
from tests.backoffice.conftest import Browser
from tests.merchants.conftest import SHOPPER_CHAT, Team
from tests.merchants.onboarding_support import (
    COMPANY,
    PNG,
    applicant,
    post_multipart,
    reviewer,
    standard_files,
)

APPLICATION_LINK = re.compile(r'href="/admin/reviews/applications/(MA[0-9A-Z]{10})"')


async def test_apply_reject_resubmit_approve_activate(
    browser: Browser, commerce: Commerce, team: Team
) -> None:
    """R4.2-1/2: the whole back-office path, with the refusals an applicant can meet on the way."""
    await reviewer(commerce)
    await applicant(commerce, "lotus@example.com")
    await browser.login("lotus@example.com")
    status, page = await browser.get("/admin/apply")
    assert status == 200 and "Company name" in page and "Business licence" in page

    # no files: refused with the missing one named, nothing queued
    status, page = await post_multipart(browser, "/admin/apply", COMPANY, {})
    assert status == 400 and "A required file is missing" in page and "Lotus Tea Trading Co." in page
    # a "PNG" that is really text: refused by type
    status, page = await post_multipart(
        browser, "/admin/apply", COMPANY, standard_files(business_licence=(b"not an image", "image/png"))
    )
    assert status == 400 and "Only JPEG, PNG, WebP and PDF" in page
    # food needs its permit
    status, page = await post_multipart(
        browser, "/admin/apply", COMPANY | {"industry": "food"}, standard_files()
    )
    assert status == 400 and "Food business permit" in page
    status, page = await post_multipart(
        browser,
        "/admin/apply",
        COMPANY | {"industry": "food"},
        standard_files(food_permit=(PNG, "image/png")),
    )
    assert status == 200 and "submitted for review" in page and "Waiting for review" in page

    reviewer_tab = Browser(browser.client)  # the same client, signed in as the reviewer in turn
    await reviewer_tab.client.post("/admin/logout", data={"csrf": browser.token})
    await reviewer_tab.login("reviewer@example.com")
    status, page = await reviewer_tab.get("/admin/reviews/applications")
    assert status == 200 and "Lotus Tea Trading Co." in page
    found = APPLICATION_LINK.search(page)
    assert found
    number = found.group(1)
    status, page = await reviewer_tab.get(f"/admin/reviews/applications/{number}")
    assert status == 200 and "Li Hua" in page and "Food business permit" in page
    response = await reviewer_tab.client.get(f"/admin/applications/{number}/files/business_licence")
    assert response.status == 200 and await response.read() == PNG
    assert response.headers["Content-Type"] == "image/png"

    status, page = await reviewer_tab.post(f"/admin/reviews/applications/{number}/reject", {"reasons": ""})
    assert status == 400  # a rejection needs a reason
    status, page = await reviewer_tab.post(
        f"/admin/reviews/applications/{number}/reject",
        {"reasons": "The licence scan is unreadable", "suggestions": "Upload a sharper scan"},
    )
    assert status == 200 and "Lotus Tea Trading Co." not in page  # out of the queue

    await reviewer_tab.post("/admin/logout")
    await browser.login("lotus@example.com")
    status, page = await browser.get("/admin/apply")
    assert "Rejected" in page and "The licence scan is unreadable" in page and "Upload a sharper scan" in page
    # resubmit: only the licence again; the other files stay on record
    status, page = await post_multipart(
        browser,
        "/admin/apply",
        COMPANY | {"industry": "food"},
        {"business_licence": (PNG + b"sharper", "image/png")},
    )
    assert status == 200 and "Waiting for review" in page

    await browser.post("/admin/logout")
    await reviewer_tab.login("reviewer@example.com")
    status, page = await reviewer_tab.get("/admin/reviews/applications")
    assert number in page
    status, page = await reviewer_tab.post(f"/admin/reviews/applications/{number}/approve")
    assert status == 200

    await reviewer_tab.post("/admin/logout")
    await browser.login("lotus@example.com")
    status, page = await browser.get("/admin/apply")
    assert "accept the contract" in page
    activation = {
        "returns_address": "No. 1 Tea Street, Hangzhou",
        "after_sales_policy": "7-day returns",
        "payout_account_name": "Lotus Tea Trading Co.",
        "payout_account_number": "6222020200112233",
    }
    status, page = await browser.post("/admin/apply/activate", activation)  # contract not ticked
    assert status == 400 and "accept the contract" in page
    status, page = await browser.post("/admin/apply/activate", activation | {"accept": "yes"})
    assert status == 200 and "Your shop is open" in page and "My orders" in page

    owner = next(u for u in await commerce.operators.list_users() if u.email == "lotus@example.com")
    assert owner.role is OperatorRole.MERCHANT_OWNER and owner.merchant_code
    assert (await commerce.merchants.get(owner.merchant_code)).status == MerchantStatus.ACTIVE.value
    async with commerce.engine.connect() as conn:
        stored = (await conn.execute(text("SELECT payout_enc FROM merchant_applications"))).scalar_one()
    assert "6222020200112233" not in stored  # encrypted like other PII
    status, page = await browser.post("/admin/account/binding")
    assert status == 200 and "/bind" in page  # the new owner binds Telegram/WeChat as any merchant user


async def test_files_are_for_the_reviewer_and_the_applicant_only(
    browser: Browser, commerce: Commerce, team: Team
) -> None:
    """R4.2-1: another applicant, a merchant and an agent get 404 (or 403 for pages not theirs)."""
    await applicant(commerce, "lotus@example.com")
    await applicant(commerce, "other@example.com")
    await browser.login("lotus@example.com")
    await browser.get("/admin/apply")
    status, _ = await post_multipart(browser, "/admin/apply", COMPANY, standard_files())
    assert status == 200
    mine = await commerce.onboarding.mine(
        Applicant("en", operator_id=(await _id(commerce, "lotus@example.com")))
    )
    assert mine is not None
    path = f"/admin/applications/{mine.public_id}/files/business_licence"
    assert (await browser.client.get(path)).status == 200  # the applicant's own file
    for stranger in ("other@example.com", "owner@bolt.example"):
        await browser.post("/admin/logout")
        await browser.login(stranger)
        response = await browser.client.get(path)
        assert response.status == 404 and PNG not in await response.read()
        assert (await browser.client.get(f"/admin/reviews/applications/{mine.public_id}")).status == 403
    await browser.post("/admin/logout")
    assert (await browser.client.get(path, allow_redirects=False)).status == 303  # signed out: log in first


async def _id(commerce: Commerce, email: str) -> str:
    return next(u.public_id for u in await commerce.operators.list_users() if u.email == email)


async def test_a_chat_applicant_is_told_the_decision_in_their_language(
    runtime: Runtime, session: RecordingSession, team: Team
) -> None:
    """R4.2-2: applied from Telegram in Simplified Chinese -> the rejection and its reasons arrive there."""
    commerce = runtime.commerce
    staff = await reviewer(commerce)
    files = {"business_licence": PNG, "tax_registration": PNG}
    store = LocalFileStore(runtime.container.settings.data_dir / "files")
    refs = {
        kind: await store.put(data, content_type="image/png", owner="chat:7001")
        for kind, data in files.items()
    }
    chat = Applicant("zh-Hans", channel="telegram", channel_user_id=SHOPPER_CHAT, customer_id=team.shopper)
    submitted = await commerce.onboarding.submit(
        chat, ApplicationForm("莲花茶业", "李华", "王芳", "13800138000", "tea@example.com"), refs
    )
    await commerce.onboarding.reject(
        submitted.public_id, "营业执照不清晰", "请上传清晰的扫描件", Actor(staff.public_id, None)
    )
    await runtime.relay_notifications()
    told = [c for c in session.calls if c.method == "sendMessage" and c.chat_id == SHOPPER_CHAT]
    assert (
        told and "营业执照不清晰" in str(told[-1].params["text"]) and "未通过" in str(told[-1].params["text"])
    )


async def test_a_licence_scan_larger_than_ordinary_forms_uploads_through_the_whole_app(
    client: TestClient[web.Request, web.Application], commerce: Commerce, team: Team
) -> None:
    """R4.2-1: the HTTP app keeps forms small (64 KiB), but the application form takes real scans;
    a file over the store's limit is refused with a clear message, never a 5xx."""
    await applicant(commerce, "scan@example.com")
    browser = Browser(client)
    await browser.login("scan@example.com")
    await browser.get("/admin/apply")
    scan = PNG + b"\x00" * (600 * 1024)  # a 600 KiB photo of a licence
    status, page = await post_multipart(
        browser, "/admin/apply", COMPANY, standard_files(business_licence=(scan, "image/png"))
    )
    assert status == 200 and "submitted for review" in page
    huge = PNG + b"\x00" * (6 * 1024 * 1024)  # over the 5 MiB a file may have
    status, page = await post_multipart(
        browser, "/admin/apply", COMPANY, standard_files(business_licence=(huge, "image/png"))
    )
    assert status == 400 and "That file is too large" in page
    status, _ = await browser.post("/admin/account/password", {"old_password": "x" * 100_000})
    assert status == 413  # other forms keep the small limit
