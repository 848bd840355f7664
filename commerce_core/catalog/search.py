"""Product search behind one interface on SQLite (FTS5 + bm25) and PostgreSQL (tsvector + ts_rank).

Only the text-matching subquery differs per database; filters (category subtree, price range,
facets, brand, stock), sorting and paging are shared SQL. A query whose words do not all match any
product is retried typo-tolerantly against the product names ("runnign shoes" finds running shoes),
then matching any word, so "red dress under 200" still finds red dresses. Exact matches always win:
the fuzzy pass only runs when the exact one found nothing. PostgreSQL scores names with ``pg_trgm``'s
word similarity (trigram index from revision 0009); SQLite, which has no such operator, scores
them with rapidfuzz in Python and hands the scores to the same SQL as a JSON object.
"""

from __future__ import annotations

import functools
import json
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
Matching = Literal["none", "text", "fuzzy"]
FUZZY_MIN_SIMILARITY = 0.5
"""Least trigram word similarity (PostgreSQL) or rapidfuzz score / 100 (SQLite) of a fuzzy match."""
FUZZY_CANDIDATES = 200
"""At most this many fuzzy matches are ranked and paged (a typo is meant to find a few products)."""


def _fuzzy_subquery(dialect: str) -> Subquery:
    """Products whose names are near the bound folded query ``b_fq``.

    On PostgreSQL every name and synonym is one text, ``lower(name::text || ' ' || synonyms::text)``,
    the expression revision 0009 indexes with ``gin_trgm_ops``; ``<%`` (word similarity at least
    pg_trgm's threshold, 0.6 by default) repeats it so the trigram index serves the search; the
    score is below 1 and typically below the full-text scores, and the fuzzy pass only runs when the
    exact one found nothing. On SQLite ``b_fq`` is a JSON object ``{product id: score}`` computed by
    :func:`_fuzzy_scores`."""
    if dialect == "sqlite":
        stmt = text("SELECT CAST(key AS INTEGER) AS product_id, value AS score FROM json_each(:b_fq)")
    else:
        stmt = text(
            "SELECT id AS product_id, "
            "word_similarity(:b_fq, lower(name::text || ' ' || synonyms::text)) AS score "
            "FROM products WHERE :b_fq <% lower(name::text || ' ' || synonyms::text)"
        )
    return stmt.columns(product_id=Integer, score=Float).subquery("matches")


def _match_subquery(dialect: str, matching: Matching = "text") -> Subquery:
    """Products matching the bound full-text query ``b_q`` (built per dialect, see :func:`_tsquery`)."""
    if matching == "fuzzy":
        return _fuzzy_subquery(dialect)
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
    if page.total == 0:
        fuzzy = await _run_fuzzy(uow, query)
        if fuzzy is not None and fuzzy.total:
            return SearchPage(fuzzy.items, fuzzy.total, fuzzy.page, fuzzy.page_size, relaxed=True)
    if page.total == 0 and len(tokens) > 1:
        relaxed = await _run(uow, query, _tsquery(dialect, tokens, "any"))
        return SearchPage(relaxed.items, relaxed.total, relaxed.page, relaxed.page_size, relaxed=True)
    return page


@dataclass(frozen=True, slots=True)
class _Shape:
    """Which filters a search uses; one prebuilt statement per shape, values bound at run time."""

    dialect: str
    matching: Matching
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
    matches = _match_subquery(shape.dialect, shape.matching) if shape.matching != "none" else None
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


async def _fuzzy_scores(uow: Work, folded: str) -> dict[str, float]:
    """SQLite: the score (0..1) of every live product whose name or synonym is near ``folded``.

    Like ``pg_trgm``'s word similarity, the query's words are compared with each name and synonym
    (any language) as a phrase: per phrase, the mean over the query words of the best rapidfuzz ratio
    against the phrase's words, plus a little for how much of the phrase was matched; a product
    scores its best phrase. So "wireles headphons" prefers a product called "wireless headphones" to
    "studio monitor headphones". Only the best ``FUZZY_CANDIDATES`` are kept."""
    from rapidfuzz import fuzz, process

    live = select(Product.id, Product.name, Product.synonyms).where(
        Product.status == ListingStatus.LIVE.value
    )
    phrases: dict[int, list[list[str]]] = {}
    for row in (await uow.execute(live)).all():
        texts = [*dict(row.name).values(), *(row.synonyms or [])]
        phrases[int(row.id)] = [words for t in texts if (words := textproc.fold(t).replace("-", " ").split())]
    vocabulary = sorted({w for ps in phrases.values() for p in ps for w in p})
    near: list[dict[str, float]] = []
    for word in folded.split()[:MAX_QUERY_TOKENS]:
        hits = process.extract(word, vocabulary, scorer=fuzz.ratio, score_cutoff=60, limit=None)
        near.append({w: score / 100 for w, score, _ in hits})
    if not near:
        return {}
    scores: dict[str, float] = {}
    for product_id, product_phrases in phrases.items():
        best = 0.0
        for phrase in product_phrases:
            per_word = [max((n.get(w, 0.0) for w in phrase), default=0.0) for n in near]
            covered = sum(1 for w in phrase if any(w in n for n in near)) / len(phrase)
            best = max(best, 0.9 * sum(per_word) / len(near) + 0.1 * covered)
        if best >= FUZZY_MIN_SIMILARITY:
            scores[str(product_id)] = round(best, 4)
    return dict(sorted(scores.items(), key=lambda kv: -kv[1])[:FUZZY_CANDIDATES])


async def _run_fuzzy(uow: Work, query: SearchQuery) -> SearchPage | None:
    """The typo-tolerant pass, or None when the query has no words to compare."""
    folded = textproc.fuzzy_text(query.text)
    if len(folded) < 3:
        return None
    if uow.dialect_name == "sqlite":
        scores = await _fuzzy_scores(uow, folded)
        if not scores:
            return None
        return await _run(uow, query, json.dumps(scores), matching="fuzzy")
    return await _run(uow, query, folded, matching="fuzzy")


async def _run(uow: Work, query: SearchQuery, tsquery: str | None, matching: Matching = "text") -> SearchPage:
    facets = sorted((k, str(v).lower()) for k, v in query.facets.items())
    shape = _Shape(
        uow.dialect_name,
        "none" if tsquery is None else matching,
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
    if tsquery is not None and matching == "fuzzy":
        params["b_fq"] = tsquery
    elif tsquery is not None:
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
