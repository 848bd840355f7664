"""The merchant console over real HTTP: the live orders list, shipping my part (the shopper is told on
Telegram), and merchant A never seeing or shipping merchant B's part (404, as for an unknown order)."""

from __future__ import annotations

from bot.channels.telegram.session import RecordingSession
from bot.runtime import Runtime
from commerce_core.api import Commerce
from commerce_core.orders.types import LineRequest
from tests.backoffice.conftest import Browser
from tests.commerce.factory import ADDRESS
from tests.merchants.conftest import SHOPPER_CHAT, Team, paid_two_merchant_order


async def test_the_orders_list_polls_its_rows_and_a_new_paid_order_shows_up(
    browser: Browser, commerce: Commerce, team: Team
) -> None:
    await browser.login("owner@acme.example")
    status, page = await browser.get("/admin/merchant/orders")
    assert status == 200 and 'hx-get="/admin/merchant/orders/rows"' in page
    assert 'hx-trigger="every 5s"' in page
    number = await paid_two_merchant_order(commerce, team)
    status, rows = await browser.get("/admin/merchant/orders/rows")
    assert status == 200 and number in rows and "Paid" in rows and "<html" not in rows.lower()


async def test_shipping_from_the_console_tells_the_shopper(
    browser: Browser, runtime: Runtime, session: RecordingSession, team: Team
) -> None:
    commerce = runtime.commerce
    number = await paid_two_merchant_order(commerce, team)
    await runtime.relay_notifications()  # the payment confirmation: not what this test looks at
    await browser.login("owner@acme.example")
    status, page = await browser.get(f"/admin/merchant/orders/{number}")
    assert status == 200 and "Ship my part" in page

    status, page = await browser.post(
        f"/admin/merchant/orders/{number}/ship", {"carrier": "SF Express", "tracking": "bad waybill!"}
    )
    assert status == 400 and "4 to 40 letters" in page
    status, page = await browser.post(
        f"/admin/merchant/orders/{number}/ship", {"carrier": "SF Express", "tracking": "SF100200300"}
    )
    assert status == 200 and "Shipped. The shopper has been told" in page and "SF100200300" in page
    assert (await commerce.orders.get(number)).status == "paid"  # bolt has not shipped its wrench yet

    before = len(session.calls)
    await runtime.relay_notifications()
    pushed = [c for c in session.calls[before:] if c.method == "sendMessage" and c.chat_id == SHOPPER_CHAT]
    assert pushed and "SF100200300" in str(pushed[0].params["text"])

    status, page = await browser.post(f"/admin/merchant/orders/{number}/ship", {"carrier": "simulated"})
    assert status == 400 and "already been shipped" in page


async def test_merchant_b_cannot_see_or_ship_merchant_as_order(
    browser: Browser, commerce: Commerce, team: Team
) -> None:
    order = await commerce.orders.place(team.shopper, ADDRESS, "only-a", items=[LineRequest("D2-BLK-S", 1)])
    await commerce.payments.sandbox_pay((await commerce.payments.start(order.number)).payment_id)
    await browser.login("owner@bolt.example")
    assert (await browser.get(f"/admin/merchant/orders/{order.number}"))[0] == 404
    _, rows = await browser.get("/admin/merchant/orders/rows")
    assert order.number not in rows
    await browser.get("/admin/merchant/orders")  # a page with the CSRF token
    status, _ = await browser.post(f"/admin/merchant/orders/{order.number}/ship", {"carrier": "simulated"})
    assert status == 404
    assert await commerce.shipments.parcels(order.number) == []
    assert (await commerce.orders.get(order.number)).status == "paid"
