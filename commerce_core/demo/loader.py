"""Load the demo catalogue (``data/catalog.json``, written by us) into a fresh database."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from commerce_core.app import Commerce
from commerce_core.catalog.types import ProductDraft, VariantDraft
from commerce_core.errors import InvalidInput
from commerce_core.merchants.types import MerchantStatus


@dataclass(frozen=True, slots=True)
class SeedReport:
    merchants: int
    categories: int
    products: int
    skus: int


def demo_catalogue() -> dict[str, Any]:
    text = resources.files("commerce_core.demo").joinpath("data/catalog.json").read_text(encoding="utf-8")
    data = json.loads(text)
    assert isinstance(data, dict)
    return data


async def seed_demo(commerce: Commerce, data: dict[str, Any] | None = None) -> SeedReport:
    """Create merchants, categories and live products; refuses to seed twice."""
    data = data or demo_catalogue()
    if await commerce.catalog.categories():
        raise InvalidInput("the database already has a catalogue", code="already_seeded")
    for merchant in data["merchants"]:
        await commerce.merchants.register(
            merchant["code"],
            merchant["name"],
            contact_email=merchant.get("contact_email"),
            contact_phone=merchant.get("contact_phone"),
            status=MerchantStatus.ACTIVE,
        )
    pending = list(data["categories"])
    created: set[str] = set()
    while pending:  # parents before children, whatever the file's order
        progress = False
        for category in list(pending):
            if category.get("parent") in (None, *created):
                await commerce.catalog.create_category(
                    category["code"],
                    category["name"],
                    parent=category.get("parent"),
                    synonyms=category.get("synonyms", []),
                    position=len(created),
                )
                created.add(category["code"])
                pending.remove(category)
                progress = True
        if not progress:
            raise InvalidInput("category tree has a cycle or a missing parent", code="invalid_catalogue")
    skus = 0
    for product in data["products"]:
        variants = [VariantDraft(v["sku"], v["options"], v["price"], v["stock"]) for v in product["variants"]]
        await commerce.catalog.create_product(
            ProductDraft(
                code=product["code"],
                merchant_code=product["merchant"],
                category_code=product["category"],
                name=product["name"],
                description=product["description"],
                variants=variants,
                currency=data.get("currency", "CNY"),
                brand=product.get("brand"),
                attributes=product.get("attributes", {}),
                synonyms=product.get("synonyms", []),
                images=product.get("images", []),
            ),
            actor="seed",
        )
        await commerce.catalog.publish(product["code"], actor="seed")
        if product.get("sales"):
            await _set_sales(commerce, product["code"], int(product["sales"]))
        skus += len(variants)
    return SeedReport(len(data["merchants"]), len(data["categories"]), len(data["products"]), skus)


async def _set_sales(commerce: Commerce, code: str, sales: int) -> None:
    from sqlalchemy import update

    from commerce_core.catalog.model import Product

    async with commerce.units.orm() as uow:
        await uow.session.execute(update(Product).where(Product.code == code).values(sales_count=sales))
        await uow.commit()
