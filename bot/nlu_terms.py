"""Convert the live catalogue (commerce_core) into the NLU's plain ``CatalogueTerms``."""

from __future__ import annotations

from commerce_core.api import Commerce
from nlu import AttributeValue, BrandTerm, CatalogueTerms, CategoryTerm, ProductTerm


async def catalogue_terms(commerce: Commerce) -> CatalogueTerms:
    products = await commerce.catalog.catalogue_terms()
    categories = await commerce.catalog.categories()
    brands: dict[str, set[str]] = {}
    for product in products:
        if product.brand:
            brands.setdefault(product.brand.lower(), set()).add(product.brand)
    return CatalogueTerms(
        products=tuple(
            ProductTerm(
                p.code,
                dict(p.names),
                tuple(p.synonyms),
                p.brand.lower() if p.brand else None,
                p.category_code,
            )
            for p in products
        ),
        brands=tuple(BrandTerm(key, tuple(sorted(names))) for key, names in sorted(brands.items())),
        categories=tuple(
            CategoryTerm(c.code, dict(c.names), tuple(c.synonyms), c.parent_code) for c in categories
        ),
        attributes=tuple[AttributeValue, ...](),
    )
