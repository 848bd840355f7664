"""The catalogue's hot reads: prebuilt column statements and the functions that run them on any
:class:`~commerce_core.uow.Work`.

Why a module of its own: product pages and SKU lookups are read on every "show me the second one",
so they take the prepared-statement path on PostgreSQL (``units.hot()``); the statements are built
once here (compiled and prepared once per database) and the functions return views, never rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, bindparam, func, literal, select
from sqlalchemy.dialects.postgresql import aggregate_order_by

from commerce_core.catalog.model import Category, Product, Sku
from commerce_core.catalog.types import ProductView, SkuListing, SkuView
from commerce_core.inventory.model import StockLevel
from commerce_core.merchants.visibility import effective_listing_status
from commerce_core.money import Money
from commerce_core.uow import Work

#: a product's view in two prebuilt column queries, runnable on any unit of work (product pages are
#: read on every "show me the second one", so they take the prepared-statement path on PostgreSQL,
#: where :func:`_product_with_skus` makes them one)
_PRODUCT_VIEW = (
    select(
        Product.id,
        Product.code,
        Product.merchant_id,
        Product.brand,
        Product.name,
        Product.description,
        Product.attributes,
        Product.images,
        effective_listing_status(Product.status, Product.merchant_id).label("status"),  # frozen: off sale
        Product.status_reason,
        Product.min_price,
        Product.max_price,
        Product.currency,
        Product.sales_count,
        Category.code.label("category_code"),
    )
    .join(Category, Category.id == Product.category_id)
    .where(Product.code == bindparam("b_code"))
)
_SKU_VIEWS = (
    select(Sku.id, Sku.code, Sku.options, Sku.price, Sku.currency, StockLevel.on_hand, StockLevel.reserved)
    .outerjoin(StockLevel, StockLevel.sku_id == Sku.id)
    .where(Sku.product_id == bindparam("b_product"))
    .order_by(Sku.id)
)


def _product_with_skus() -> Any:
    """PostgreSQL: the product's view and its SKUs (a JSON array, in SKU id order) in ONE statement.

    Why: a product page was two round trips (the product, then its SKUs by the product's id), on
    every "the first one" and again when its add-to-cart button is tapped. An array column rather
    than a join: a row per SKU would repeat (and decode again) the product's JSON columns per SKU.
    """
    sku = func.json_build_array(
        Sku.id, Sku.code, Sku.options, Sku.price, Sku.currency, StockLevel.on_hand, StockLevel.reserved
    )
    skus = (
        select(func.coalesce(func.json_agg(aggregate_order_by(sku, Sku.id)), literal("[]", JSON)))
        .select_from(Sku)
        .outerjoin(StockLevel, StockLevel.sku_id == Sku.id)
        .where(Sku.product_id == Product.id)
        .scalar_subquery()
    )
    return _PRODUCT_VIEW.add_columns(skus.label("skus"))


_PRODUCT_WITH_SKUS = _product_with_skus()
_SKU_BY_CODE = (
    select(
        Sku.id,
        Sku.code,
        Sku.options,
        Sku.price,
        Sku.currency,
        StockLevel.on_hand,
        StockLevel.reserved,
        Product.code.label("product_code"),
        Product.name.label("product_name"),
        effective_listing_status(Product.status, Product.merchant_id).label("product_status"),
    )
    .join(Product, Product.id == Sku.product_id)
    .outerjoin(StockLevel, StockLevel.sku_id == Sku.id)
    .where(Sku.code == bindparam("b_code"))
)
_SKU_IDS = select(Sku.code, Sku.id).where(Sku.code.in_(bindparam("b_codes", expanding=True)))
_CODE_BY_ID = select(Product.code).where(Product.id == bindparam("b_product"))


async def sku_ids(uow: Work, codes: Sequence[str]) -> dict[str, int]:
    """SKU code -> id for the codes that exist (inventory's port onto the catalogue's SKU codes)."""
    if not codes:
        return {}
    return {code: sku_id for code, sku_id in (await uow.execute(_SKU_IDS, {"b_codes": list(codes)})).all()}


async def load_product_view(uow: Work, code: str) -> ProductView | None:
    """The product ``code`` with its SKUs and stock, in whatever status; None if there is none."""
    if uow.dialect_name == "postgresql":
        product = (await uow.execute(_PRODUCT_WITH_SKUS, {"b_code": code})).first()
        if product is None:
            return None
        rows: Sequence[Sequence[Any]] = product.skus
    else:
        product = (await uow.execute(_PRODUCT_VIEW, {"b_code": code})).first()
        if product is None:
            return None
        rows = (await uow.execute(_SKU_VIEWS, {"b_product": product.id})).all()
    skus = tuple(
        SkuView(
            sku_id,
            sku_code,
            dict(options),
            Money(price, currency),
            max(0, (on_hand or 0) - (reserved or 0)),
        )
        for sku_id, sku_code, options, price, currency, on_hand, reserved in rows
    )
    return ProductView(
        id=product.id,
        code=product.code,
        merchant_id=product.merchant_id,
        category_code=product.category_code,
        brand=product.brand,
        name=dict(product.name),
        description=dict(product.description),
        attributes=dict(product.attributes),
        images=list(product.images),
        status=product.status,
        status_reason=product.status_reason,
        min_price=Money(product.min_price, product.currency),
        max_price=Money(product.max_price, product.currency),
        sales=product.sales_count,
        skus=skus,
    )


async def load_sku_listing(uow: Work, code: str) -> SkuListing | None:
    """The SKU ``code`` with its product (in whatever listing status); None if no SKU has the code."""
    row = (await uow.execute(_SKU_BY_CODE, {"b_code": code})).first()
    if row is None:
        return None
    available = max(0, (row.on_hand or 0) - (row.reserved or 0))
    return SkuListing(
        SkuView(row.id, row.code, dict(row.options), Money(row.price, row.currency), available),
        row.product_code,
        dict(row.product_name),
        row.product_status,
    )


async def product_code(uow: Work, product_id: int) -> str | None:
    code: str | None = (await uow.execute(_CODE_BY_ID, {"b_product": product_id})).scalar()
    return code
