"""Bad input gets a clear domain error (with a code) and leaves the data unchanged."""

from __future__ import annotations

import pytest

from commerce_core.app import Commerce
from commerce_core.catalog.types import ProductDraft, SearchQuery, VariantDraft
from commerce_core.errors import DomainError, InvalidInput, NotFound
from commerce_core.money import Money
from commerce_core.orders.types import LineRequest
from tests.commerce.factory import ADDRESS, build_shop, names


async def snapshot(commerce: Commerce, customer_id: int) -> tuple[object, ...]:
    cart = await commerce.cart.view(customer_id)
    orders = await commerce.orders.for_customer(customer_id)
    levels = await commerce.inventory.levels(["D1-RED-M", "D2-BLK-S"])
    products = (await commerce.catalog.search(SearchQuery(page_size=50))).total
    return (cart.lines, len(orders), levels, products)


def draft(**changes: object) -> ProductDraft:
    base: dict[str, object] = {
        "code": "NEW1",
        "merchant_code": "acme",
        "category_code": "dresses",
        "name": names("新品", "New"),
        "description": names("描述", "Description"),
        "variants": [VariantDraft("NEW1-A", {}, 1000, 1)],
    }
    base.update(changes)
    return ProductDraft(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("action", "code"),
    [
        ("unknown_sku", "sku_not_found"),
        ("unknown_customer", "customer_not_found"),
        ("quantity_zero", "invalid_quantity"),
        ("quantity_huge", "invalid_quantity"),
        ("order_huge", "invalid_quantity"),
        ("negative_price", "invalid_amount"),
        ("zero_price", "invalid_amount"),
        ("long_name", "too_long"),
        ("bad_currency", "invalid_currency"),
        ("empty_name", "required"),
        ("bad_phone", "invalid_phone"),
        ("long_address", "too_long"),
        ("unknown_order_sku", "sku_not_found"),
        ("bad_sku_code", "invalid_code"),
    ],
)
async def test_bad_input_is_refused_with_a_code_and_changes_nothing(
    commerce: Commerce, action: str, code: str
) -> None:
    shop = await build_shop(commerce)
    await commerce.cart.add(shop.customer_id, "D1-RED-M", 1)
    before = await snapshot(commerce, shop.customer_id)
    attempts = {
        "unknown_sku": lambda: commerce.cart.add(shop.customer_id, "NOPE-1", 1),
        "unknown_customer": lambda: commerce.cart.add(shop.customer_id + 1000, "D2-BLK-S", 1),
        "quantity_zero": lambda: commerce.cart.add(shop.customer_id, "D2-BLK-S", 0),
        "quantity_huge": lambda: commerce.cart.add(shop.customer_id, "D2-BLK-S", 10**9),
        "order_huge": lambda: commerce.orders.place(
            shop.customer_id, ADDRESS, "k", items=[LineRequest("D2-BLK-S", 10**9)]
        ),
        "negative_price": lambda: commerce.catalog.create_product(
            draft(variants=[VariantDraft("NEW1-A", {}, -5, 1)])
        ),
        "zero_price": lambda: commerce.catalog.set_price("D1-RED-M", 0, actor="m"),
        "long_name": lambda: commerce.catalog.create_product(draft(name=names("长" * 300, "x"))),
        "bad_currency": lambda: commerce.catalog.create_product(draft(currency="XXX")),
        "empty_name": lambda: commerce.catalog.create_product(draft(name={"en": "   "})),
        "bad_phone": lambda: commerce.orders.place(
            shop.customer_id, ADDRESS.__class__("李四", "12345", "北京", "长安街1号"), "k2"
        ),
        "long_address": lambda: commerce.orders.place(
            shop.customer_id, ADDRESS.__class__("李四", "13912345678", "北京", "街" * 1000), "k3"
        ),
        "unknown_order_sku": lambda: commerce.orders.place(
            shop.customer_id, ADDRESS, "k4", items=[LineRequest("GHOST", 1)]
        ),
        "bad_sku_code": lambda: commerce.catalog.create_product(
            draft(variants=[VariantDraft("bad code; drop table", {}, 100, 1)])
        ),
    }
    with pytest.raises(DomainError) as err:
        await attempts[action]()
    assert err.value.code == code
    assert await snapshot(commerce, shop.customer_id) == before


def test_money_rejects_floats_and_unknown_currencies() -> None:
    with pytest.raises(InvalidInput):
        Money(19.9, "CNY")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        Money(100, "ABC")
    assert Money(19900, "CNY").format() == "¥199.00"
    assert Money(50, "XTR").format() == "⭐50"


async def test_other_customers_orders_are_invisible(commerce: Commerce) -> None:
    shop = await build_shop(commerce)
    order = await commerce.orders.place(shop.customer_id, ADDRESS, "k", items=[LineRequest("D2-BLK-S", 1)])
    stranger = await commerce.customers.identify("test", "stranger")
    with pytest.raises(NotFound):
        await commerce.orders.get(order.number, customer_id=stranger.id)
    with pytest.raises(NotFound):
        await commerce.orders.cancel(order.number, actor="x", reason="y", customer_id=stranger.id)
