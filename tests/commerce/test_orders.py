"""Orders from cart to payment: idempotency, reservations, capture, cancellation, expiry."""

from __future__ import annotations

import asyncio
import json

import pytest

from commerce_core.app import Commerce
from commerce_core.clock import FakeClock
from commerce_core.errors import IllegalTransition, NotAllowed, OutOfStock, PaymentRejected
from commerce_core.orders.types import LineRequest, OrderStatus
from commerce_core.payments.sandbox import SIGNATURE_HEADER, SandboxProvider
from tests.commerce.factory import ADDRESS, build_shop


async def stock(commerce: Commerce, sku: str) -> tuple[int, int]:
    return (await commerce.inventory.levels([sku]))[sku]


async def test_order_from_cart_reserves_stock_and_snapshots_prices(commerce: Commerce) -> None:
    shop = await build_shop(commerce)
    await commerce.cart.add(shop.customer_id, "D1-RED-M", 2)
    order = await commerce.orders.place(shop.customer_id, ADDRESS, "key-1")
    assert order.status == "pending_payment"
    assert order.number.startswith("SB") and len(order.number) == 12
    assert order.total.amount == 2 * 19900  # over the free-shipping threshold
    assert await stock(commerce, "D1-RED-M") == (10, 2)
    assert (await commerce.cart.view(shop.customer_id)).is_empty
    await commerce.catalog.set_price("D1-RED-M", 100, actor="merchant")
    again = await commerce.orders.get(order.number)
    assert again.lines[0].unit_price.amount == 19900
    assert "138******78" in again.masked_address and "张**" in again.masked_address


async def test_same_idempotency_key_gives_one_order(commerce: Commerce) -> None:
    shop = await build_shop(commerce)
    items = [LineRequest("D2-BLK-S", 1)]
    first = await commerce.orders.place(shop.customer_id, ADDRESS, "same", items=items)
    second = await commerce.orders.place(shop.customer_id, ADDRESS, "same", items=items)
    concurrent = await asyncio.gather(
        *[commerce.orders.place(shop.customer_id, ADDRESS, "race", items=items) for _ in range(8)]
    )
    assert first.number == second.number
    assert len({o.number for o in concurrent}) == 1
    assert len(await commerce.orders.for_customer(shop.customer_id)) == 2
    assert await stock(commerce, "D2-BLK-S") == (10, 2)


async def test_sandbox_payment_captures_once_and_commits_stock(commerce: Commerce) -> None:
    shop = await build_shop(commerce)
    order = await commerce.orders.place(shop.customer_id, ADDRESS, "k", items=[LineRequest("D3-BLU-M", 3)])
    payment = await commerce.payments.start(order.number, customer_id=shop.customer_id)
    assert payment.amount.amount == order.total.amount and payment.pay_url
    sandbox = commerce.payments.provider("sandbox")
    assert isinstance(sandbox, SandboxProvider)
    body, headers = sandbox.build_notification(
        reference=payment.payment_id,
        provider_ref=payment.provider_ref or "",
        amount=payment.amount.amount,
        currency="CNY",
    )
    first = await commerce.payments.handle_notification("sandbox", body, headers)
    replays = await asyncio.gather(
        *[commerce.payments.handle_notification("sandbox", body, headers) for _ in range(5)]
    )
    assert first.outcome == "captured"
    assert {r.outcome for r in replays} == {"duplicate"}
    paid = await commerce.orders.get(order.number)
    assert paid.status == "paid"
    assert await stock(commerce, "D3-BLU-M") == (7, 0)
    history = [(h.from_status, h.to_status) for h in await commerce.orders.history(order.number)]
    assert history == [(None, "pending_payment"), ("pending_payment", "paid")]
    # a second, differently-identified success for the same payment changes nothing either
    again = await commerce.payments.sandbox_pay(payment.payment_id)
    assert again.outcome == "duplicate"
    assert await stock(commerce, "D3-BLU-M") == (7, 0)


@pytest.mark.parametrize("tamper", ["body", "signature", "amount", "stale"])
async def test_forged_or_tampered_callback_is_rejected_and_changes_nothing(
    commerce: Commerce, clock: FakeClock, tamper: str
) -> None:
    shop = await build_shop(commerce)
    order = await commerce.orders.place(shop.customer_id, ADDRESS, "k", items=[LineRequest("D2-BLK-S", 1)])
    payment = await commerce.payments.start(order.number)
    sandbox = commerce.payments.provider("sandbox")
    assert isinstance(sandbox, SandboxProvider)
    amount = payment.amount.amount - 1 if tamper == "amount" else payment.amount.amount
    body, headers = sandbox.build_notification(
        reference=payment.payment_id, provider_ref="x", amount=amount, currency="CNY"
    )
    if tamper == "body":
        body = body.replace(b'"amount":', b'"amount":1')
    elif tamper == "signature":
        headers = {SIGNATURE_HEADER: headers[SIGNATURE_HEADER][:-4] + "0000"}
    elif tamper == "stale":
        clock.advance(hours=1)
    with pytest.raises(PaymentRejected):
        await commerce.payments.handle_notification("sandbox", body, headers)
    assert (await commerce.orders.get(order.number)).status == "pending_payment"
    assert await stock(commerce, "D2-BLK-S") == (10, 1)


async def test_malformed_notification_is_rejected(commerce: Commerce) -> None:
    sandbox = commerce.payments.provider("sandbox")
    assert isinstance(sandbox, SandboxProvider)
    body = json.dumps({"hello": "world"}).encode()
    with pytest.raises(PaymentRejected) as err:
        await commerce.payments.handle_notification("sandbox", body, {SIGNATURE_HEADER: sandbox.sign(body)})
    assert err.value.code == "malformed_notification"
    with pytest.raises(PaymentRejected):
        await commerce.payments.handle_notification("sandbox", b"not json", {})


async def test_illegal_transition_raises_domain_error(commerce: Commerce) -> None:
    shop = await build_shop(commerce)
    order = await commerce.orders.place(shop.customer_id, ADDRESS, "k", items=[LineRequest("D2-BLK-S", 1)])
    with pytest.raises(IllegalTransition) as err:
        await commerce.orders.complete(order.number, actor="test")
    assert err.value.params["from_status"] == "pending_payment"
    with pytest.raises(NotAllowed):
        await commerce.shipments.ship(order.number)


async def test_cancel_unpaid_releases_and_cancel_paid_refunds(commerce: Commerce) -> None:
    shop = await build_shop(commerce)
    unpaid = await commerce.orders.place(shop.customer_id, ADDRESS, "a", items=[LineRequest("D1-RED-L", 2)])
    result = await commerce.orders.cancel(
        unpaid.number, actor="customer", reason="changed mind", customer_id=shop.customer_id
    )
    assert result.order.status == "cancelled" and result.refund_id is None
    assert await stock(commerce, "D1-RED-L") == (10, 0)

    paid = await commerce.orders.place(shop.customer_id, ADDRESS, "b", items=[LineRequest("D1-RED-L", 2)])
    payment = await commerce.payments.start(paid.number)
    await commerce.payments.sandbox_pay(payment.payment_id)
    assert await stock(commerce, "D1-RED-L") == (8, 0)
    result = await commerce.orders.cancel(paid.number, actor="customer", reason="too slow")
    assert result.refund_id is not None
    assert await stock(commerce, "D1-RED-L") == (10, 0)
    refunds = await commerce.payments.refunds_for_order(paid.number)
    assert refunds == [(result.refund_id, paid.total.amount, "succeeded")]
    with pytest.raises(NotAllowed):
        await commerce.orders.cancel(paid.number, actor="customer", reason="again")


async def test_payment_timeout_cancels_and_a_late_payment_is_refunded(
    commerce: Commerce, clock: FakeClock
) -> None:
    shop = await build_shop(commerce)
    order = await commerce.orders.place(shop.customer_id, ADDRESS, "k", items=[LineRequest("H1-BLK", 1)])
    payment = await commerce.payments.start(order.number)
    assert await commerce.orders.expire_unpaid() == []
    clock.advance(minutes=31)
    assert await commerce.orders.expire_unpaid() == [order.number]
    assert (await commerce.orders.get(order.number)).status == "cancelled"
    assert await stock(commerce, "H1-BLK") == (10, 0)
    late = await commerce.payments.sandbox_pay(payment.payment_id)
    assert late.outcome == "refunding_late_payment"
    assert [r[2] for r in await commerce.payments.refunds_for_order(order.number)] == ["succeeded"]
    assert (await commerce.orders.get(order.number)).status == "cancelled"


async def test_not_enough_stock_places_nothing(commerce: Commerce) -> None:
    shop = await build_shop(commerce, stock=2)
    with pytest.raises(OutOfStock) as err:
        await commerce.orders.place(
            shop.customer_id, ADDRESS, "k", items=[LineRequest("D1-RED-M", 1), LineRequest("D2-BLK-S", 3)]
        )
    assert err.value.params == {"sku": "D2-BLK-S", "requested": 3, "available": 2}
    assert await stock(commerce, "D1-RED-M") == (2, 0)
    assert await commerce.orders.for_customer(shop.customer_id) == []


async def test_full_lifecycle_to_completed(commerce: Commerce, clock: FakeClock) -> None:
    shop = await build_shop(commerce)
    order = await commerce.orders.place(shop.customer_id, ADDRESS, "k", items=[LineRequest("D2-BLK-S", 1)])
    await commerce.payments.sandbox_pay((await commerce.payments.start(order.number)).payment_id)
    shipment = await commerce.shipments.ship(order.number)
    assert shipment.tracking_number.startswith("SX")
    clock.advance(days=10)
    assert await commerce.shipments.refresh(shipment.tracking_number) > 0
    assert (await commerce.orders.get(order.number)).status == OrderStatus.DELIVERED
    done = await commerce.orders.complete(order.number, actor="customer", customer_id=shop.customer_id)
    assert done.status == "completed"


async def test_a_cart_holds_one_currency_and_a_bounded_number_of_lines(commerce: Commerce) -> None:
    from commerce_core.cart.service import MAX_CART_LINES
    from commerce_core.catalog.types import ProductDraft, VariantDraft
    from commerce_core.errors import InvalidInput
    from tests.commerce.factory import names

    shop = await build_shop(commerce)
    many = [VariantDraft(f"M-{n:02d}", {"size": str(n)}, 1000, 5) for n in range(MAX_CART_LINES + 1)]
    for draft in (
        ProductDraft("M", "acme", "dresses", names("多款", "Many"), names("多", "many"), many),
        ProductDraft(
            "U",
            "acme",
            "dresses",
            names("美元款", "Dollar"),
            names("美", "usd"),
            [VariantDraft("U-1", {}, 1000, 5)],
            currency="USD",
        ),
    ):
        await commerce.catalog.create_product(draft)
        await commerce.catalog.publish(draft.code)

    await commerce.cart.add(shop.customer_id, "M-00")
    with pytest.raises(InvalidInput) as mixed:
        await commerce.cart.add(shop.customer_id, "U-1")
    assert mixed.value.code == "currency_mismatch"
    again = await commerce.cart.add(shop.customer_id, "M-00", 2)  # the same SKU adds up on its line
    assert [(line.sku_code, line.quantity) for line in again.lines] == [("M-00", 3)]

    for n in range(1, MAX_CART_LINES):
        await commerce.cart.add(shop.customer_id, f"M-{n:02d}")
    with pytest.raises(InvalidInput) as full:
        await commerce.cart.add(shop.customer_id, f"M-{MAX_CART_LINES:02d}")
    assert full.value.code == "cart_full"
    view = await commerce.cart.view(shop.customer_id)
    assert len(view.lines) == MAX_CART_LINES and view.item_count == MAX_CART_LINES + 2


async def test_listing_orders_gives_each_its_own_lines(commerce: Commerce) -> None:
    shop = await build_shop(commerce)
    first = await commerce.orders.place(
        shop.customer_id, ADDRESS, "a", items=[LineRequest("D1-RED-M", 1), LineRequest("H1-BLK", 2)]
    )
    second = await commerce.orders.place(shop.customer_id, ADDRESS, "b", items=[LineRequest("D2-BLK-S", 1)])
    listed = await commerce.orders.for_customer(shop.customer_id)
    assert [o.number for o in listed] == [second.number, first.number]  # newest first
    assert [[(line.sku_code, line.quantity) for line in o.lines] for o in listed] == [
        [("D2-BLK-S", 1)],
        [("D1-RED-M", 1), ("H1-BLK", 2)],
    ]
    assert [o.number for o in await commerce.orders.list_recent()] == [second.number, first.number]
