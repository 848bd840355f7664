"""R5.3-1 review moderation over real HTTP: a shopper's review the checks held (an absolute claim and a
phone number) is listed for the reviewer with its findings; rejecting needs a reason; approving shows it
on the product's summary; agents and merchants are refused; every decision is in the audit log."""

from __future__ import annotations

import re

from commerce_core.api import SYSTEM_ACTOR, AuditFilter, Commerce, FakeClock, OperatorRole
from commerce_core.orders.types import LineRequest
from tests.backoffice.conftest import PASSWORD, Browser, People
from tests.commerce.factory import ADDRESS


async def held_reviews(commerce: Commerce, clock: FakeClock, people: People) -> tuple[int, int]:
    """Two held reviews of the shop's D2 by two shoppers who received it."""
    order = await commerce.orders.get(people.order_a)
    await commerce.payments.sandbox_pay((await commerce.payments.start(order.number)).payment_id)
    await commerce.shipments.ship(order.number)
    other = await commerce.customers.identify("console", "second-buyer", language="en")
    second = await commerce.orders.place(other.id, ADDRESS, "rv2", items=[LineRequest("D2-BLK-S", 1)])
    await commerce.payments.sandbox_pay((await commerce.payments.start(second.number)).payment_id)
    await commerce.shipments.ship(second.number)
    clock.advance(days=9)
    await commerce.shipments.refresh_open()
    first = await commerce.product_reviews.submit(order.customer_id, "D2", 5, "全网最好 加我 13812345678")
    later = await commerce.product_reviews.submit(other.id, "D2", 2, "you idiots")
    return first.id, later.id


async def test_reviewer_approves_and_rejects_held_reviews(
    browser: Browser, commerce: Commerce, clock: FakeClock, people: People
) -> None:
    first, second = await held_reviews(commerce, clock, people)
    assert (await commerce.product_reviews.summary("D2")).count == 0  # held: nothing shows yet
    await commerce.operators.create(
        "rita@shop.example",
        PASSWORD,
        OperatorRole.REVIEWER,
        display_name="Rita",
        language="en",
        actor=SYSTEM_ACTOR,
    )
    await browser.login("agent@example.com")
    assert (await browser.get("/admin/review/product-reviews"))[0] == 403
    await browser.post("/admin/logout")
    await browser.login("owner@acme.example")
    assert (await browser.get("/admin/review/product-reviews"))[0] == 403  # merchants do not moderate
    await browser.post("/admin/logout")

    await browser.login("rita@shop.example")
    status, page = await browser.get("/admin/review/product-reviews")
    assert status == 200 and "Review moderation" in page
    assert "Absolute or false advertising terms: <q>全网最好</q>" in page and "Contact details" in page
    assert "Abusive language" in page and f'id="review-{second}"' in page
    status, page = await browser.post(f"/admin/review/product-reviews/{second}/reject", {"reason": ""})
    assert status == 400 and "A rejection needs a reason." in page
    status, page = await browser.post(f"/admin/review/product-reviews/{second}/reject", {"reason": "abuse"})
    assert status == 200 and "Rejected: the review stays hidden." in page
    assert f'id="review-{second}"' not in page
    status, page = await browser.post(f"/admin/review/product-reviews/{first}/approve")
    assert (
        status == 200 and "Approved: the review is now shown." in page and "No reviews are waiting." in page
    )
    status, page = await browser.post(f"/admin/review/product-reviews/{first}/approve")
    assert status == 400 and "This review was already decided." in page
    assert (await browser.post("/admin/review/product-reviews/999999/approve"))[0] == 404
    assert (await browser.post("/admin/review/product-reviews/x1/approve"))[0] == 404

    summary = await commerce.product_reviews.summary("D2")
    assert (summary.count, summary.average) == (1, 5.0)  # the approved one; the rejected stays out
    assert [r.comment for r in summary.recent] == ["全网最好 加我 13812345678"]
    audit = await commerce.operators.audit_log(AuditFilter(object_type="product_review"))
    assert sorted((e.action, e.object_id) for e in audit) == sorted(
        [("product_review.approve", str(first)), ("product_review.reject", str(second))]
    )
    assert re.search(r"abuse", next(e.detail or "" for e in audit if e.object_id == str(second)))
