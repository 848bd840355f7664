"""Catalogue: search in three scripts, filters, sorting, paging; listing review; cart problems."""

from __future__ import annotations

import pytest

from commerce_core.app import Commerce
from commerce_core.cart.types import ProblemKind
from commerce_core.catalog.types import ListingStatus, ProductDraft, SearchQuery, VariantDraft
from commerce_core.errors import IllegalTransition, InvalidInput, NotAllowed, NotFound
from tests.commerce.factory import ADDRESS, build_shop, names


async def codes(commerce: Commerce, **query: object) -> list[str]:
    page = await commerce.catalog.search(SearchQuery(**query))  # type: ignore[arg-type]
    return [item.code for item in page.items]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("连衣裙", {"D1", "D2", "D3"}),  # category name and product names
        ("红色连衣裙", {"D1"}),
        ("紅色連衣裙", {"D1"}),  # traditional script folds to simplified
        ("red dresses", {"D1"}),  # stemmed English
        ("ＲＥＤ　ＤＲＥＳＳ", {"D1"}),  # full-width input
        ("耳机", {"H1"}),
        ("noise cancelling", {"H1"}),
        ("Lumi", {"D1", "D3"}),  # brand
        ("雪纺", {"D1"}),  # attribute value
    ],
)
async def test_keyword_search(commerce: Commerce, text: str, expected: set[str]) -> None:
    await build_shop(commerce)
    assert set(await codes(commerce, text=text)) == expected


async def test_search_relaxes_to_any_word_when_nothing_matches_all(commerce: Commerce) -> None:
    await build_shop(commerce)
    page = await commerce.catalog.search(SearchQuery(text="red unicorn dress"))
    assert page.relaxed and page.items[0].code == "D1"
    assert (await commerce.catalog.search(SearchQuery(text="zzzqqq"))).total == 0


async def test_filters_sorting_and_paging(commerce: Commerce) -> None:
    await build_shop(commerce)
    assert await codes(commerce, category="dresses", sort="price_asc") == ["D3", "D1", "D2"]
    assert await codes(commerce, category="apparel", sort="price_desc") == ["D2", "D1", "D3"]
    assert await codes(commerce, price_max=20000, sort="price_asc") == ["D3", "D1"]
    assert await codes(commerce, price_min=30000, sort="price_asc") == ["D2", "H1"]
    assert await codes(commerce, facets={"color": "red"}) == ["D1"]
    assert await codes(commerce, facets={"size": "m"}, sort="price_asc") == ["D3", "D1"]
    assert await codes(commerce, brand="lumi", sort="price_asc") == ["D3", "D1"]
    first = await commerce.catalog.search(SearchQuery(page_size=3, sort="price_asc"))
    second = await commerce.catalog.search(SearchQuery(page_size=3, page=2, sort="price_asc"))
    assert first.total == 4 and first.has_more and not second.has_more
    assert [i.code for i in first.items + second.items] == ["D3", "D1", "D2", "H1"]
    assert second.total == 4
    beyond = await commerce.catalog.search(SearchQuery(page_size=3, page=3, sort="price_asc"))
    assert beyond.items == () and beyond.total == 4  # past the end: no items, the total still right
    assert await codes(commerce, category="electronics") == ["H1"]  # a parent finds its children's
    assert await codes(commerce, category="no-such-category") == []
    with pytest.raises(InvalidInput):
        await commerce.catalog.search(SearchQuery(page_size=500))


async def test_sort_by_sales_follows_payments(commerce: Commerce) -> None:
    shop = await build_shop(commerce)
    from commerce_core.orders.types import LineRequest

    order = await commerce.orders.place(shop.customer_id, ADDRESS, "k", items=[LineRequest("D3-BLU-M", 2)])
    await commerce.payments.sandbox_pay((await commerce.payments.start(order.number)).payment_id)
    assert (await codes(commerce, sort="sales"))[0] == "D3"


async def test_only_live_products_are_found_or_sold(commerce: Commerce) -> None:
    shop = await build_shop(commerce)
    await commerce.catalog.create_product(
        ProductDraft(
            "N1",
            "acme",
            "dresses",
            names("绿色连衣裙", "Green Dress"),
            names("新", "new"),
            [VariantDraft("N1-G", {"color": "green"}, 5000, 5)],
        )
    )
    assert "N1" not in await codes(commerce, text="green dress")
    with pytest.raises(NotFound):
        await commerce.cart.add(shop.customer_id, "N1-G", 1)
    await commerce.catalog.change_status("N1", ListingStatus.PENDING_REVIEW, actor="merchant")
    with pytest.raises(InvalidInput):
        await commerce.catalog.change_status("N1", ListingStatus.REJECTED, actor="staff")
    rejected = await commerce.catalog.change_status(
        "N1", ListingStatus.REJECTED, actor="staff", reason="photo missing"
    )
    assert rejected.status_reason == "photo missing"
    with pytest.raises(IllegalTransition):
        await commerce.catalog.change_status("N1", ListingStatus.LIVE, actor="staff")
    await commerce.catalog.change_status("N1", ListingStatus.PENDING_REVIEW, actor="merchant")
    await commerce.catalog.change_status("N1", ListingStatus.LIVE, actor="staff")
    assert await codes(commerce, text="green dress") == ["N1"]
    await commerce.cart.add(shop.customer_id, "N1-G", 1)
    await commerce.catalog.change_status("N1", ListingStatus.DELISTED, actor="staff")
    cart = await commerce.cart.view(shop.customer_id)
    assert [p.kind for p in cart.problems] == [ProblemKind.DELISTED] and not cart.can_checkout
    with pytest.raises(NotAllowed) as err:
        await commerce.orders.place(shop.customer_id, ADDRESS, "k")
    assert err.value.code == "cart_delisted"


async def test_cart_reports_stock_and_price_problems_as_data(commerce: Commerce) -> None:
    shop = await build_shop(commerce, stock=3)
    cart = await commerce.cart.add(shop.customer_id, "D1-RED-M", 2)
    cart = await commerce.cart.add(shop.customer_id, "D1-RED-M", 2)
    assert cart.lines[0].quantity == 4
    assert [(p.kind, p.available) for p in cart.problems] == [(ProblemKind.INSUFFICIENT_STOCK, 3)]
    cart = await commerce.cart.set_quantity(shop.customer_id, "D1-RED-M", 3)
    assert cart.can_checkout and cart.subtotal is not None and cart.subtotal.amount == 3 * 19900
    await commerce.catalog.set_price("D1-RED-M", 15900, actor="merchant")
    cart = await commerce.cart.view(shop.customer_id)
    problem = cart.problems[0]
    assert (
        problem.kind is ProblemKind.PRICE_CHANGED and problem.new_price and problem.new_price.amount == 15900
    )
    assert cart.can_checkout  # a price change is shown, not blocking; the order uses the new price
    with pytest.raises(NotAllowed) as err:
        await commerce.orders.place(shop.customer_id, ADDRESS, "k", expected_total=3 * 19900)
    assert err.value.code == "price_changed"
    assert not (await commerce.cart.accept_prices(shop.customer_id)).problems
    await commerce.inventory.set_on_hand("D1-RED-M", 0, actor="merchant")
    cart = await commerce.cart.view(shop.customer_id)
    assert [p.kind for p in cart.problems] == [ProblemKind.OUT_OF_STOCK]
    cart = await commerce.cart.remove(shop.customer_id, "D1-RED-M")
    assert cart.is_empty
    with pytest.raises(InvalidInput) as empty:
        await commerce.orders.place(shop.customer_id, ADDRESS, "k2")
    assert empty.value.code == "cart_empty"


async def test_product_details_and_similar(commerce: Commerce) -> None:
    await build_shop(commerce)
    product = await commerce.catalog.get_product("D1")
    assert product.option_values("size") == ["M", "L"]
    sku = product.find_sku(color="red", size="L")
    assert sku is not None and sku.available == 10 and sku.price.format() == "¥199.00"
    assert product.title("zh-Hant") == "紅色碎花連衣裙" and product.title("en") == "Red Floral Dress"
    similar = await commerce.catalog.similar("D1")
    assert [p.code for p in similar.items] == ["D3", "D2"]  # same category, closest price first
    terms = await commerce.catalog.catalogue_terms()
    assert {t.code for t in terms} == {"D1", "D2", "D3", "H1"}


async def test_a_new_compound_word_is_searchable_from_its_first_product(commerce: Commerce) -> None:
    """Regression: documents were segmented before the product's own words were taught to jieba."""
    await build_shop(commerce)
    await commerce.catalog.create_product(
        ProductDraft(
            "C1",
            "acme",
            "dresses",
            names("猫爪杯垫礼盒", "Cat Paw Coaster Gift Box"),
            names("硅胶", "silicone"),
            [VariantDraft("C1-A", {"color": "pink"}, 2900, 5)],
            synonyms=["猫爪杯垫"],
        )
    )
    await commerce.catalog.publish("C1")
    assert await codes(commerce, text="猫爪杯垫") == ["C1"]
    assert await codes(commerce, facets={"color": "PINK"}) == ["C1"]  # filter values are case-blind
    assert await commerce.catalog.load_search_terms() > 0
