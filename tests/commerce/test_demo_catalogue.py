"""The demo catalogue is well-formed: three languages, valid references, realistic stock and prices."""

from __future__ import annotations

from commerce_core.catalog.types import COLOURS
from commerce_core.demo.loader import demo_catalogue
from commerce_core.validation import LANGUAGES


def test_demo_catalogue_is_complete_and_consistent() -> None:
    data = demo_catalogue()
    merchants = {m["code"] for m in data["merchants"]}
    categories = {c["code"]: c for c in data["categories"]}
    leaves = {code for code in categories if not any(c["parent"] == code for c in categories.values())}
    products = data["products"]
    assert 180 <= len(products) <= 260 and 8 <= len(leaves) <= 14 and 3 <= len(merchants) <= 6
    skus = [v for p in products for v in p["variants"]]
    assert len({p["code"] for p in products}) == len(products)
    assert len({v["sku"] for v in skus}) == len(skus)
    for product in products:
        assert product["merchant"] in merchants and product["category"] in leaves
        for field in ("name", "description"):
            assert all(product[field].get(lang, "").strip() for lang in LANGUAGES), (product["code"], field)
        for variant in product["variants"]:
            assert isinstance(variant["price"], int) and variant["price"] > 0 and variant["stock"] >= 0
            assert variant["options"].get("color", "red") in COLOURS
    assert any(v["stock"] == 0 for v in skus) and any(
        1 <= v["stock"] <= 3 for v in skus
    )  # demos of shortages
    red_dresses = [
        p
        for p in products
        if p["category"] == "dresses" and any(v["options"].get("color") == "red" for v in p["variants"])
    ]
    assert len(red_dresses) >= 3
