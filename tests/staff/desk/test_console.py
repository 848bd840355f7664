"""The after-sales desk in the back office over real HTTP: the case queue with the 24-hour clock and
the overdue alert, staff actions with their refusals (never a 500), every action in the audit log,
and the merchant console scoped to the merchant's own cases (another merchant's case id is a 404).

Requirements: R5.4-1, R7.1-3 (permissions, audit), R5.4-2.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from commerce_core.api import (
    SYSTEM_ACTOR,
    AuditFilter,
    CaseItemRequest,
    CaseKind,
    Commerce,
    FakeClock,
    LineRequest,
    OperatorPolicy,
    OperatorRole,
    OperatorView,
)
from tests.backoffice.conftest import PASSWORD, Browser, backoffice_app
from tests.commerce.factory import ADDRESS, add_bolt, build_shop


@dataclass(frozen=True)
class Desk:
    agent: OperatorView
    owner_a: OperatorView  # acme: the dresses
    owner_b: OperatorView  # bolt: the wrench
    acme_case: str  # a return of acme's dress
    bolt_case: str  # a return of bolt's wrench


@pytest_asyncio.fixture
async def desk(commerce: Commerce, clock: FakeClock) -> Desk:
    commerce.operators.policy = OperatorPolicy(hash_time_cost=1, hash_memory_kib=256, hash_parallelism=1)
    shop = await build_shop(commerce)
    await add_bolt(commerce)
    lines = [LineRequest("D1-RED-M", 1), LineRequest("B1-STD", 1)]
    order = await commerce.orders.place(shop.customer_id, ADDRESS, "desk", items=lines)
    await commerce.payments.sandbox_pay((await commerce.payments.start(order.number)).payment_id)
    await commerce.shipments.ship(order.number)  # each merchant's part: two parcels
    clock.advance(days=15)
    for parcel in await commerce.shipments.parcels(order.number):
        await commerce.shipments.refresh(parcel.tracking_number)

    async def case(line: int) -> str:
        item = [CaseItemRequest(line, 1)]
        opened = await commerce.after_sales.open(
            shop.customer_id, order.number, CaseKind.RETURN, item, reason_code="size_fit"
        )
        return opened.number

    async def make(email: str, role: OperatorRole, merchant: str | None = None) -> OperatorView:
        return await commerce.operators.create(
            email, PASSWORD, role, merchant_code=merchant, display_name=email[:5], actor=SYSTEM_ACTOR
        )

    return Desk(
        agent=await make("agent@example.com", OperatorRole.AGENT),
        owner_a=await make("owner@acme.example", OperatorRole.MERCHANT_OWNER, "acme"),
        owner_b=await make("owner@bolt.example", OperatorRole.MERCHANT_OWNER, "bolt"),
        acme_case=await case(1),
        bolt_case=await case(2),
    )


@pytest_asyncio.fixture
async def browser(commerce: Commerce, tmp_path: Path) -> AsyncIterator[Browser]:
    server = TestServer(backoffice_app(commerce, tmp_path), host="127.0.0.1")
    async with TestClient(server, headers={"Accept-Language": "en"}) as client:
        yield Browser(client)


async def test_the_queue_shows_the_clock_and_the_overdue_alert_and_staff_act(
    commerce: Commerce, clock: FakeClock, desk: Desk, browser: Browser
) -> None:
    await browser.login("agent@example.com")
    status, page = await browser.get("/admin/cases")
    assert status == 200 and desk.acme_case in page and desk.bolt_case in page
    assert "23 h 59 min left" in page or "24 h 0 min left" in page
    assert "no answer within 24 hours" not in page

    clock.advance(hours=25)
    await browser.login("agent@example.com")  # a day later: a new shift, a new sign-in
    status, page = await browser.get("/admin/cases")
    assert 'role="alert"' in page and "2 case(s) have had no answer within 24 hours" in page
    assert "overdue by 1 h 0 min" in page

    case_url = f"/admin/cases/{desk.acme_case}"
    status, page = await browser.get(case_url)
    assert status == 200 and ("Size doesn&#39;t fit" in page or "Size doesn't fit" in page)
    await browser.post(f"{case_url}/accept", {"note": "请寄回"})
    status, page = await browser.post(f"{case_url}/refund", {"amount": "abc"})
    assert status == 200 and "Enter an amount like 50.00" in page  # refused, not a 500
    status, page = await browser.post(f"{case_url}/refund", {"amount": "199.01"})
    assert "more than the items cost" in page
    status, page = await browser.post(f"{case_url}/refund", {"amount": "50"})
    assert "Refund sent" in page and "¥50.00" in page
    status, page = await browser.get("/admin/cases")
    assert "1 case(s) have had no answer" in page  # the answered one no longer counts

    status, _ = await browser.post("/admin/cases/ASNOSUCHCASE1/accept", {"note": "x"})
    assert status == 404
    entries = await commerce.operators.audit_log(AuditFilter(object_id=desk.acme_case), limit=20)
    actions = {(e.action, e.actor_email) for e in entries}
    assert {("case.accept", "agent@example.com"), ("case.refund", "agent@example.com")} <= actions


async def test_a_merchant_sees_only_cases_on_its_own_items(desk: Desk, browser: Browser) -> None:
    await browser.login("owner@bolt.example")
    status, page = await browser.get("/admin/merchant/cases")
    assert status == 200 and desk.bolt_case in page and desk.acme_case not in page
    status, page = await browser.get(f"/admin/merchant/cases/{desk.acme_case}")
    _, unknown = await browser.get("/admin/merchant/cases/ASNOSUCHCASE1")
    assert status == 404 and "Not found" in page and "Size doesn" not in page
    assert page.replace(desk.acme_case, "ASNOSUCHCASE1") == unknown  # exactly as for no such case
    status, _ = await browser.post(f"/admin/merchant/cases/{desk.acme_case}/accept", {"address": "x 路 1 号"})
    assert status == 404
    status, _ = await browser.get("/admin/cases")  # the staff desk is not for merchants
    assert status == 403

    status, page = await browser.post(f"/admin/merchant/cases/{desk.bolt_case}/accept", {"address": ""})
    assert "Fill in the field" in page
    status, page = await browser.post(
        f"/admin/merchant/cases/{desk.bolt_case}/accept", {"address": "深圳市南山区科技园 1 号"}
    )
    assert "Return accepted" in page and "深圳市南山区科技园 1 号" in page and "Accepted" in page
