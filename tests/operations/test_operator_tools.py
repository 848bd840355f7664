"""Operator tools (R3.4-5, R3.4-4): one search box finds an order by number, a shopper by order number
or phone (through the blind index, shown masked, the look-up audited) or an after-sales case; the audit
log downloads as CSV with the page's filters, formula cells neutralised, the export itself audited.
Only staff whose role allows it see either."""

from __future__ import annotations

import csv
import io
import re

from commerce_core.api import SYSTEM_ACTOR, AuditFilter, CaseItemRequest, CaseKind, Commerce, FakeClock
from tests.backoffice.conftest import Browser, People
from tests.commerce.factory import ADDRESS
from tests.commerce.test_fulfilment import delivered_order

PHONE = "13812345678"  # the test shop's customer (tests.commerce.factory.ADDRESS)


async def audited(commerce: Commerce, action: str) -> list[tuple[str | None, str | None]]:
    entries = await commerce.operators.audit_log(AuditFilter(action=action), limit=50)
    return [(e.actor_email, e.object_id) for e in entries]


async def test_an_agent_finds_an_order_a_shopper_by_phone_and_a_case_from_one_box(
    browser: Browser, people: People, commerce: Commerce, clock: FakeClock
) -> None:
    order = await commerce.orders.get(people.order_a)
    shopper = await commerce.customers.bind_phone(order.customer_id, PHONE, verified=True)
    case_order = await delivered_order(commerce, clock, order.customer_id)
    case = await commerce.after_sales.open(
        order.customer_id, case_order, CaseKind.RETURN, [CaseItemRequest(1, 1)], reason_code="size_fit"
    )
    await browser.login("agent@example.com")

    status, page = await browser.get(f"/admin/search?q={people.order_a.lower()}")  # typed in lower case
    assert status == 200 and people.order_a in page and shopper.public_id in page
    assert PHONE not in page and ADDRESS.line not in page and ADDRESS.recipient not in page  # masked only
    assert "138******78" in page  # the shopper's phone, masked

    status, page = await browser.get("/admin/search", params={"q": "138 1234 5678"})
    assert status == 200 and shopper.public_id in page
    found = set(re.findall(r"<code>(SB[0-9A-Z]+)</code>", page))
    assert {people.order_a, people.order_b, case_order} <= found and case.number in page

    status, page = await browser.get(f"/admin/search?q={case.number}")
    assert status == 200 and case.number in page and case_order in page and shopper.public_id in page

    assert ("agent@example.com", shopper.public_id) in await audited(commerce, "search")


async def test_searches_that_find_nothing_or_make_no_sense_say_so(browser: Browser, people: People) -> None:
    await browser.login("admin@example.com")
    status, page = await browser.get("/admin/search?q=SB0000NOSUCH")
    assert status == 200 and "Nothing found." in page
    status, page = await browser.get("/admin/search?q=13900000000")  # nobody has this phone
    assert status == 200 and "Nothing found." in page
    status, page = await browser.get("/admin/search", params={"q": "<script>alert(1)</script>"})
    assert status == 200 and "Enter an order number" in page and "<script>alert" not in page
    status, page = await browser.get("/admin/search", params={"q": "x" * 5000})
    assert status == 200


async def test_merchants_cannot_search_shoppers(browser: Browser, people: People) -> None:
    await browser.login("owner@acme.example")
    status, _ = await browser.get(f"/admin/search?q={people.order_a}")
    assert status == 403


async def test_the_audit_log_exports_as_csv_with_its_filters(
    browser: Browser, people: People, commerce: Commerce
) -> None:
    await commerce.operators.record(SYSTEM_ACTOR, "note", "order", people.order_a, detail='=HYPERLINK("x")')
    await browser.login("agent@example.com")
    response = await browser.client.get("/admin/audit/export.csv")
    assert response.status == 403  # agents do not read the audit log
    await browser.login("admin@example.com")
    status, page = await browser.get("/admin/audit")
    assert status == 200 and "/admin/audit/export.csv?" in page
    response = await browser.client.get("/admin/audit/export.csv", params={"action": "note"})
    assert response.status == 200 and response.content_type == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO((await response.read()).decode("utf-8-sig"))))
    assert rows[0][:4] == ["at", "actor_email", "actor_id", "action"]
    [row] = rows[1:]
    assert row[3] == "note" and row[5] == people.order_a and row[7] == '\'=HYPERLINK("x")'
    everything = await browser.client.get("/admin/audit/export.csv")
    lines = csv.reader(io.StringIO((await everything.read()).decode("utf-8-sig")))
    logins = [r for r in lines if r[3] == "login.succeeded"]
    assert len(logins) == 2  # the agent's and the admin's sign-ins
    assert (await browser.client.get("/admin/audit/export.csv?since=yesterday")).status == 400
    assert ("admin@example.com", None) in await audited(commerce, "audit.export")
