"""The catalogue finds a SKU by its code, and the core answers "can this order still be paid?".

Regression for issue 10 (business rules at the edge): the Telegram pre-checkout check used to find a
product by splitting the SKU code and re-derive the payable rules itself.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from commerce_core.api import (
    Commerce,
    FakeClock,
    LineRequest,
    ListingStatus,
    NotFound,
    PayableProblemKind,
)
from tests.commerce.factory import ADDRESS, build_shop


async def test_a_sku_is_found_by_its_code_with_its_product(commerce: Commerce) -> None:
    await build_shop(commerce, stock=7)
    found = await commerce.catalog.sku("D1-RED-L")
    assert found.sku.code == "D1-RED-L" and found.sku.options == {"color": "red", "size": "L"}
    assert found.sku.price.amount == 19900 and found.sku.price.currency == "CNY"
    assert found.sku.available == 7
    assert found.product_code == "D1" and found.title("en") == "Red Floral Dress" and found.on_sale
    await commerce.catalog.change_status("D1", ListingStatus.DELISTED, actor="merchant")
    delisted = await commerce.catalog.sku("D1-RED-L")
    assert delisted.product_status == "delisted" and not delisted.on_sale


@pytest.mark.parametrize("code", ["NOPE-1", "D1", "", "d1-red-l"])
async def test_an_unknown_sku_code_is_not_found(commerce: Commerce, code: str) -> None:
    await build_shop(commerce)
    with pytest.raises(NotFound) as raised:
        await commerce.catalog.sku(code)
    assert raised.value.code == "sku_not_found"


async def place(commerce: Commerce, *items: LineRequest) -> tuple[str, int]:
    shop = await build_shop(commerce)
    order = await commerce.orders.place(shop.customer_id, ADDRESS, "k", items=list(items))
    return order.number, order.total.amount


async def test_an_unpaid_order_in_time_for_its_total_is_payable(commerce: Commerce) -> None:
    number, total = await place(commerce, LineRequest("D1-RED-M", 1), LineRequest("D3-BLU-M", 1))
    assert await commerce.payments.check_payable(number, total, "CNY") is None
    assert await commerce.payments.check_payable(number.lower(), total, "CNY") is None  # typed by hand


async def test_wrong_amount_or_currency_is_refused(commerce: Commerce) -> None:
    number, total = await place(commerce, LineRequest("D1-RED-M", 1))
    for amount, currency in ((total - 1, "CNY"), (total, "USD")):
        problem = await commerce.payments.check_payable(number, amount, currency)
        assert problem is not None and problem.kind is PayableProblemKind.AMOUNT_CHANGED
        assert problem.order_number == number


async def test_an_unknown_order_is_refused(commerce: Commerce) -> None:
    await build_shop(commerce)
    problem = await commerce.payments.check_payable("SB0000000000", 100, "CNY")
    assert problem is not None and problem.kind is PayableProblemKind.UNKNOWN_ORDER


async def test_an_order_past_its_payment_window_is_refused(commerce: Commerce, clock: FakeClock) -> None:
    number, total = await place(commerce, LineRequest("D1-RED-M", 1))
    clock.advance(seconds=(commerce.orders.policy.payment_window + timedelta(seconds=1)).total_seconds())
    problem = await commerce.payments.check_payable(number, total, "CNY")
    assert problem is not None and problem.kind is PayableProblemKind.EXPIRED


async def test_a_cancelled_or_paid_order_is_not_payable(commerce: Commerce) -> None:
    number, total = await place(commerce, LineRequest("D1-RED-M", 1))
    await commerce.orders.cancel(number, actor="customer", reason="changed my mind")
    problem = await commerce.payments.check_payable(number, total, "CNY")
    assert problem is not None and problem.kind is PayableProblemKind.NOT_PAYABLE
    assert problem.order_status == "cancelled"


async def test_a_paid_order_is_not_payable_twice(commerce: Commerce) -> None:
    number, total = await place(commerce, LineRequest("D2-BLK-S", 1))
    payment = await commerce.payments.start(number)
    assert (await commerce.payments.sandbox_pay(payment.payment_id)).outcome == "captured"
    problem = await commerce.payments.check_payable(number, total, "CNY")
    assert problem is not None and problem.order_status == "paid"


async def test_a_delisted_product_or_a_changed_price_is_named(commerce: Commerce) -> None:
    number, total = await place(commerce, LineRequest("D1-RED-M", 1), LineRequest("D3-BLU-M", 1))
    await commerce.catalog.set_price("D3-BLU-M", 9800, actor="merchant")
    problem = await commerce.payments.check_payable(number, total, "CNY")
    assert problem is not None and problem.kind is PayableProblemKind.PRICE_CHANGED
    assert problem.sku_code == "D3-BLU-M" and problem.title("en") == "Blue Denim Dress"
    await commerce.catalog.change_status("D1", ListingStatus.DELISTED, actor="merchant")
    problem = await commerce.payments.check_payable(number, total, "CNY")
    assert problem is not None and problem.kind is PayableProblemKind.UNAVAILABLE  # first line first
    assert problem.sku_code == "D1-RED-M" and problem.title("zh-Hans") == "红色碎花连衣裙"
