"""Product search behind one interface on SQLite (FTS5 + bm25) and PostgreSQL (tsvector + ts_rank).

Only the text-matching subquery differs per database; filters (category subtree, price range,
facets, brand, stock), sorting and paging are shared SQL. A query whose words do not all match any
product is retried matching any word, so "red dress under 200" still finds red dresses.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Float, Integer, and_, bindparam, exists, func, literal, select, text
from sqlalchemy.sql import Select, Subquery

from commerce_core.catalog import text as textproc
from commerce_core.catalog.model import Category, Product, ProductFacet, Sku
from commerce_core.catalog.types import ListingStatus, ProductSummary, SearchPage, SearchQuery
from commerce_core.errors import InvalidInput
from commerce_core.inventory.model import StockLevel
from commerce_core.merchants.visibility import merchant_on_sale
from commerce_core.money import Money
from commerce_core.uow import Work

MAX_PAGE_SIZE = 50
MAX_QUERY_TOKENS = 12
Mode = Literal["all", "any"]


def _match_subquery(dialect: str) -> Subquery:
    """Products matching the bound full-text query ``b_q`` (built per dialect, see :func:`_tsquery`)."""
    if dialect == "sqlite":
        stmt = text(
            "SELECT rowid AS product_id, -bm25(product_fts) AS score "
            "FROM product_fts WHERE product_fts MATCH :b_q"
        )
    else:
        stmt = text(
            "SELECT id AS product_id, ts_rank(to_tsvector('simple', search_document), "
            "to_tsquery('simple', :b_q)) AS score FROM products "
            "WHERE to_tsvector('simple', search_document) @@ to_tsquery('simple', :b_q)"
        )
    return stmt.columns(product_id=Integer, score=Float).subquery("matches")


def _tsquery(dialect: str, tokens: list[str], mode: Mode) -> str:
    """The full-text query for ``tokens``: all of them, or any."""
    if dialect == "sqlite":
        joiner = " AND " if mode == "all" else " OR "
        return joiner.join('"' + t.replace('"', '""') + '"' for t in tokens)
    joiner = " & " if mode == "all" else " | "
    # tokens are [a-z0-9] or CJK runs only (see text.tokens), so quoting is safe
    return joiner.join("'" + t.replace("'", "") + "'" for t in tokens)


def category_subtree(code: Any) -> Select[tuple[int]]:
    """Ids of the category ``code`` and all its descendants, as a recursive subquery (both databases
    speak WITH RECURSIVE), so filtering by category costs no round trip of its own."""
    tree = select(Category.id).where(Category.code == code).cte("subtree", recursive=True)
    tree = tree.union_all(select(Category.id).where(Category.parent_id == tree.c.id))
    return select(tree.c.id)


def _validate(query: SearchQuery) -> None:
    if query.page < 1 or not 1 <= query.page_size <= MAX_PAGE_SIZE:
        raise InvalidInput("page out of range", code="invalid_page", maximum=MAX_PAGE_SIZE)
    for bound in (query.price_min, query.price_max):
        if bound is not None and bound < 0:
            raise InvalidInput("price filter must not be negative", code="invalid_amount")
    if len(query.text) > 500:
        raise InvalidInput("search text too long", code="too_long", field="query", maximum=500)


async def search(uow: Work, query: SearchQuery) -> SearchPage:
    _validate(query)
    tokens = textproc.tokens(query.text, for_query=True)[:MAX_QUERY_TOKENS]
    dialect = uow.dialect_name
    if not tokens:
        return await _run(uow, query, None)
    page = await _run(uow, query, _tsquery(dialect, tokens, "all"))
    if page.total == 0 and len(tokens) > 1:
        relaxed = await _run(uow, query, _tsquery(dialect, tokens, "any"))
        return SearchPage(relaxed.items, relaxed.total, relaxed.page, relaxed.page_size, relaxed=True)
    return page


@dataclass(frozen=True, slots=True)
class _Shape:
    """Which filters a search uses; one prebuilt statement per shape, values bound at run time."""

    dialect: str
    matching: bool
    category: bool
    price_min: bool
    price_max: bool
    brand: bool
    facets: tuple[str, ...]
    in_stock_only: bool
    excluding: bool
    sort: str


@functools.lru_cache(maxsize=256)
def _statements(shape: _Shape) -> tuple[Select[Any], Select[Any]]:
    """The page query (rows plus the total as a window count) and the bare count, for ``shape``.

    Built once per shape: a search then costs a parameter bind, not an expression build, a cache key
    and a compile (it is the turn most shoppers start with)."""
    availability = (
        select(
            Sku.product_id.label("product_id"),
            func.sum(StockLevel.on_hand - StockLevel.reserved).label("available"),
        )
        .join(StockLevel, StockLevel.sku_id == Sku.id)
        .group_by(Sku.product_id)
        .subquery("availability")
    )
    matches = _match_subquery(shape.dialect) if shape.matching else None
    score = matches.c.score if matches is not None else literal(0.0, Float)
    available = func.coalesce(availability.c.available, 0)
    stmt = (
        select(
            Product.id,
            Product.code,
            Product.name,
            Product.brand,
            Product.currency,
            Product.min_price,
            Product.max_price,
            Product.sales_count,
            Product.images,
            Category.code.label("category_code"),
            available.label("available"),
            score.label("score"),
        )
        .join(Category, Category.id == Product.category_id)
        .outerjoin(availability, availability.c.product_id == Product.id)
        .where(Product.status == ListingStatus.LIVE.value)
        .where(merchant_on_sale(Product.merchant_id))  # a frozen merchant's listings are off sale
    )
    if matches is not None:
        stmt = stmt.join(matches, matches.c.product_id == Product.id)
    if shape.category:
        stmt = stmt.where(Product.category_id.in_(category_subtree(bindparam("b_category"))))
    if shape.price_min:
        stmt = stmt.where(Product.max_price >= bindparam("b_price_min"))
    if shape.price_max:
        stmt = stmt.where(Product.min_price <= bindparam("b_price_max"))
    if shape.brand:
        stmt = stmt.where(func.lower(Product.brand) == bindparam("b_brand"))
    for n, name in enumerate(shape.facets):
        stmt = stmt.where(
            exists().where(
                and_(
                    ProductFacet.product_id == Product.id,
                    ProductFacet.name == name,
                    ProductFacet.value == bindparam(f"b_facet_{n}"),
                )
            )
        )
    if shape.in_stock_only:
        stmt = stmt.where(available > 0)
    if shape.excluding:
        stmt = stmt.where(Product.code.not_in(bindparam("b_exclude", expanding=True)))
    order = {
        "relevance": [score.desc(), Product.sales_count.desc()],
        "sales": [Product.sales_count.desc()],
        "price_asc": [Product.min_price.asc()],
        "price_desc": [Product.max_price.desc()],
        "newest": [Product.created_at.desc()],
    }[shape.sort]
    # the total rides along on every row (a window over the whole match), so one query serves both
    paged = (
        stmt.add_columns(func.count().over().label("total"))
        .order_by(*order, Product.id)
        .offset(bindparam("b_offset"))
        .limit(bindparam("b_limit"))
    )
    return paged, select(func.count()).select_from(stmt.subquery())


async def _run(uow: Work, query: SearchQuery, tsquery: str | None) -> SearchPage:
    facets = sorted((k, str(v).lower()) for k, v in query.facets.items())
    shape = _Shape(
        uow.dialect_name,
        tsquery is not None,
        bool(query.category),
        query.price_min is not None,
        query.price_max is not None,
        bool(query.brand),
        tuple(name for name, _ in facets),
        query.in_stock_only,
        bool(query.exclude_codes),
        query.sort,
    )
    params: dict[str, Any] = {
        "b_offset": (query.page - 1) * query.page_size,
        "b_limit": query.page_size,
    }
    if tsquery is not None:
        params["b_q"] = tsquery
    if query.category:
        params["b_category"] = query.category
    if query.price_min is not None:
        params["b_price_min"] = query.price_min
    if query.price_max is not None:
        params["b_price_max"] = query.price_max
    if query.brand:
        params["b_brand"] = query.brand.lower()
    for n, (_, value) in enumerate(facets):
        params[f"b_facet_{n}"] = value
    if query.exclude_codes:
        params["b_exclude"] = list(query.exclude_codes)
    paged, count = _statements(shape)
    rows = (await uow.execute(paged, params)).all()
    if rows:
        total = int(rows[0].total)
    elif query.page == 1:
        total = 0
    else:  # past the last page: count on its own
        del params["b_offset"], params["b_limit"]
        total = int((await uow.execute(count, params)).scalar() or 0)
    items = tuple(
        ProductSummary(
            id=r.id,
            code=r.code,
            name=dict(r.name),
            brand=r.brand,
            category_code=r.category_code,
            min_price=Money(r.min_price, r.currency),
            max_price=Money(r.max_price, r.currency),
            sales=r.sales_count,
            available=int(r.available or 0),
            image=(r.images or [None])[0],
            score=float(r.score or 0.0),
        )
        for r in rows
    )
    return SearchPage(items, total, query.page, query.page_size)
