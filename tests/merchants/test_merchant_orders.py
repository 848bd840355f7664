"""The merchant console's order tools over real HTTP (R4.4-1, R4.4-3): cancelling my part of a paid
order I cannot fill (refund, stock, history, the shopper told on Telegram, audit), never a shipped part,
never another merchant's order; the order list's filters and its CSV."""

from __future__ import annotations

import csv
import io

from bot.channels.telegram.session import RecordingSession
from bot.runtime import Runtime
from commerce_core.api import AuditFilter, Commerce
from commerce_core.orders.types import LineRequest
from tests.backoffice.conftest import Browser
from tests.commerce.factory import ADDRESS
from tests.merchants.conftest import SHOPPER_CHAT, Team, paid_two_merchant_order

DRESS = 19900  # D1-RED-M, acme's
WRENCH = 4900  # B1-STD, bolt's (two in the order)


async def _stock(commerce: Commerce, merchant_id: int, code: str) -> int:
    return (await commerce.operators.merchant_product(merchant_id, code)).stock_on_hand


async def test_cancelling_my_part_refunds_my_lines_restocks_and_tells_the_shopper(
    browser: Browser, runtime: Runtime, session: RecordingSession, team: Team
) -> None:
    """R4.4-1: acme cannot fill its dress; bolt's wrenches still ship."""
    commerce = runtime.commerce
    number = await paid_two_merchant_order(commerce, team)
    await runtime.relay_notifications()
    on_shelf = await _stock(commerce, team.acme, "D1")
    await browser.login("owner@acme.example")
    status, page = await browser.get(f"/admin/merchant/orders/{number}")
    assert status == 200 and "Cancel my part and refund" in page and "¥199.00" in page

    status, page = await browser.post(f"/admin/merchant/orders/{number}/cancel", {"reason": "  "})
    assert status == 400 and "Give a reason" in page
    assert await commerce.payments.refunds_for_order(number) == []

    status, page = await browser.post(
        f"/admin/merchant/orders/{number}/cancel", {"reason": "Out of stock in size M"}
    )
    assert status == 200 and "Your part is cancelled" in page and "Out of stock in size M" in page
    assert [(amount, state) for _, amount, state in await commerce.payments.refunds_for_order(number)] == [
        (DRESS, "succeeded")
    ]
    assert await _stock(commerce, team.acme, "D1") == on_shelf + 1
    order = await commerce.orders.get(number)
    assert order.status == "paid"  # bolt still ships its part
    history = await commerce.orders.history(number)
    assert any(h.reason and "Out of stock in size M" in h.reason for h in history)
    audit = await commerce.operators.audit_log(AuditFilter(action="order.cancel_part", object_id=number))
    assert len(audit) == 1 and audit[0].actor_email == "owner@acme.example"

    before = len(session.calls)
    await runtime.relay_notifications()
    told = [
        str(c.params["text"])
        for c in session.calls[before:]
        if c.method == "sendMessage" and c.chat_id == SHOPPER_CHAT
    ]
    # the shopper reads Simplified Chinese: the seller's reason, the amount, then the refund itself
    assert any("极客商店" in t and "Out of stock in size M" in t and "¥199.00" in t for t in told), told
    assert any("¥199.00" in t and "退" in t for t in told)

    status, page = await browser.post(f"/admin/merchant/orders/{number}/cancel", {"reason": "again"})
    assert status == 400 and "already cancelled" in page
    await commerce.shipments.ship(number, merchant_id=team.bolt, actor="test")
    assert (await commerce.orders.get(number)).status == "shipped"  # nothing waits for acme's part


async def test_the_last_part_cancels_the_whole_order_with_its_shipping_fee(
    browser: Browser, commerce: Commerce, team: Team
) -> None:
    """R4.4-1: an order of one merchant's lines is cancelled as a whole and refunded in full."""
    order = await commerce.orders.place(team.shopper, ADDRESS, "one", items=[LineRequest("D1-RED-M", 2)])
    await commerce.payments.sandbox_pay((await commerce.payments.start(order.number)).payment_id)
    await browser.login("owner@acme.example")
    await browser.get(f"/admin/merchant/orders/{order.number}")
    status, _ = await browser.post(
        f"/admin/merchant/orders/{order.number}/cancel", {"reason": "Discontinued"}
    )
    assert status == 200
    after = await commerce.orders.get(order.number)
    assert after.status == "cancelled"
    assert [amount for _, amount, _ in await commerce.payments.refunds_for_order(order.number)] == [
        2 * DRESS + order.shipping_fee.amount  # the last part takes the shipping fee with it
    ]


async def test_a_shipped_part_cannot_be_cancelled(browser: Browser, commerce: Commerce, team: Team) -> None:
    """R4.4-1: once my part went to a carrier, cancelling is refused with a clear message."""
    number = await paid_two_merchant_order(commerce, team)
    await commerce.shipments.ship(number, merchant_id=team.acme, actor="test")
    await browser.login("owner@acme.example")
    status, page = await browser.get(f"/admin/merchant/orders/{number}")
    assert status == 200 and "Cancel my part" not in page
    status, page = await browser.post(f"/admin/merchant/orders/{number}/cancel", {"reason": "Oops"})
    assert status == 400 and "has been shipped, so it cannot be cancelled" in page
    assert await commerce.payments.refunds_for_order(number) == []


async def test_merchant_b_cannot_cancel_merchant_as_order(
    browser: Browser, commerce: Commerce, team: Team
) -> None:
    """R4.4-1: another merchant's order is 404, as an unknown one, and nothing changes."""
    order = await commerce.orders.place(team.shopper, ADDRESS, "only-a", items=[LineRequest("D2-BLK-S", 1)])
    await commerce.payments.sandbox_pay((await commerce.payments.start(order.number)).payment_id)
    await browser.login("owner@bolt.example")
    await browser.get("/admin/merchant/orders")  # a page with the CSRF token
    status, _ = await browser.post(f"/admin/merchant/orders/{order.number}/cancel", {"reason": "mine now"})
    assert status == 404
    assert (await commerce.orders.get(order.number)).status == "paid"
    assert await commerce.payments.refunds_for_order(order.number) == []


async def test_order_list_filters_and_csv_export(browser: Browser, commerce: Commerce, team: Team) -> None:
    """R4.4-3: status, dates and number filter the list; the CSV is the filtered list, my lines only,
    without the shopper's name, phone or address; bolt's CSV never holds acme's orders."""
    paid = await paid_two_merchant_order(commerce, team)
    unpaid = (
        await commerce.orders.place(team.shopper, ADDRESS, "u", items=[LineRequest("D2-BLK-S", 1)])
    ).number
    await browser.login("owner@acme.example")

    _, page = await browser.get("/admin/merchant/orders?status=paid")
    assert paid in page and unpaid not in page
    _, page = await browser.get(f"/admin/merchant/orders?q={unpaid[-6:].lower()}")
    assert unpaid in page and paid not in page
    _, page = await browser.get("/admin/merchant/orders?from=2001-01-01&to=2001-01-31")
    assert paid not in page and unpaid not in page
    today = (await commerce.orders.get(paid)).created_at.date().isoformat()
    _, page = await browser.get(f"/admin/merchant/orders?from={today}&to={today}")
    assert paid in page and unpaid in page
    status, page = await browser.get("/admin/merchant/orders?status=lost")
    assert status == 400 and "Check the filter" in page
    status, _ = await browser.get("/admin/merchant/orders?from=2026-13-01")
    assert status == 400
    status, rows = await browser.get("/admin/merchant/orders/rows?status=pending_payment")
    assert status == 200 and unpaid in rows and paid not in rows

    status, body = await browser.get("/admin/merchant/orders.csv?status=paid")
    assert status == 200
    table = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
    assert [(r["number"], r["sku"], r["quantity"], r["line_total"]) for r in table] == [
        (paid, "D1-RED-M", "1", "¥199.00")
    ]
    assert "张三丰" not in body and "13812345678" not in body and "世纪大道" not in body

    await browser.post("/admin/logout", {})
    await browser.login("owner@bolt.example")
    _, body = await browser.get("/admin/merchant/orders.csv")
    numbers = {r["number"] for r in csv.DictReader(io.StringIO(body.lstrip("\ufeff")))}
    assert numbers == {paid}  # its wrench line only, never acme's unpaid dress order
    assert "D1-RED-M" not in body
