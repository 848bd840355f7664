"""The persistence steps listing moderation shares: validate an entry, gather what the checks compare
with, insert a listing with its review item, apply an approved version, open a review item.

Why functions on a unit of work: a single console submission and a 1,000-row CSV import run the same
steps, the import many rows to a transaction; the services decide the transactions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from commerce_core.catalog import checks
from commerce_core.catalog import text as textproc
from commerce_core.catalog.listings_types import (
    FindingView,
    ListingContent,
    ListingInput,
    ListingPolicy,
    ReviewItemView,
    ReviewKind,
    ReviewState,
    VariantInput,
)
from commerce_core.catalog.model import Category, ListingReview, Product, ProductFacet, Sku
from commerce_core.catalog.service import MAX_VARIANTS, _facets, _search_texts
from commerce_core.catalog.types import ListingStatus, ProductDraft, VariantDraft
from commerce_core.errors import InvalidInput
from commerce_core.inventory.model import StockLevel
from commerce_core.merchants.model import Merchant
from commerce_core.money import check_amount, check_currency
from commerce_core.uow import UnitOfWork as Work
from commerce_core.validation import check_code, clean_text, localized

MAX_IMAGES = 20
MAX_ATTRIBUTE = 200


def check_code_ok(code: str) -> bool:
    try:
        check_code(code, "code")
    except InvalidInput:
        return False
    return True


def clean_content(content: ListingContent) -> ListingContent:
    """The content with every text trimmed and bounded; InvalidInput names the ``field`` at fault."""
    attributes: dict[str, Any] = {}
    for key, value in content.attributes.items():
        name = check_code(str(key), "attribute")
        if isinstance(value, dict):
            attributes[name] = localized(value, name, max_length=MAX_ATTRIBUTE)
        else:
            text = clean_text(str(value), name, max_length=MAX_ATTRIBUTE, required=False)
            if text:
                attributes[name] = text
    return ListingContent(
        name=localized(content.name, "name", max_length=200),
        description=localized(content.description, "description", max_length=5000),
        attributes=attributes,
        images=[clean_text(i, "images", max_length=500) for i in content.images][:MAX_IMAGES],
        brand=clean_text(content.brand, "brand", max_length=100, required=False) or None,
    )


def clean_variant(variant: VariantInput) -> VariantInput:
    check_code(variant.sku, "sku")
    try:
        check_amount(variant.price, allow_zero=False)
    except InvalidInput as exc:
        raise InvalidInput("price must be a positive amount", code="invalid_price", field="price") from exc
    stock = variant.stock
    if isinstance(stock, bool) or not isinstance(stock, int) or not 0 <= stock <= 10**7:
        raise InvalidInput("stock must be a whole number >= 0", code="invalid_quantity", field="stock")
    options = {
        check_code(str(k), "option"): clean_text(str(v), "option", max_length=64)
        for k, v in variant.options.items()
        if str(v).strip()
    }
    return VariantInput(variant.sku, options, variant.price, stock)


def clean_input(entry: ListingInput) -> ListingInput:
    """A new listing, validated field by field (the console shows, the CSV import reports, the field)."""
    check_code(entry.code, "code")
    try:
        check_currency(entry.currency)
    except InvalidInput as exc:
        raise InvalidInput("unknown currency", code="invalid_currency", field="currency") from exc
    if not entry.variants or len(entry.variants) > MAX_VARIANTS:
        raise InvalidInput("a product needs 1 to 100 variants", code="invalid_variants", field="variants")
    variants = [clean_variant(v) for v in entry.variants]
    if len({v.sku for v in variants}) != len(variants):
        raise InvalidInput("duplicate SKU codes", code="duplicate_sku", field="sku")
    return ListingInput(
        entry.code, entry.category_code, clean_content(entry.content), variants, entry.currency
    )


def facts(
    category_code: str, content: ListingContent, variants: list[VariantInput], code: str = ""
) -> checks.ListingFacts:
    return checks.ListingFacts(
        category_code=category_code,
        name=content.name,
        description=content.description,
        attributes=content.attributes,
        options=[v.options for v in variants],
        images=content.images,
        prices=[v.price for v in variants],
        code=code,
    )


async def check_context(uow: Work, category_id: int, policy: ListingPolicy) -> checks.CheckContext:
    """The category's live prices and the live listings' texts (the most recent ``duplicate_window``)."""
    session = uow.session
    prices = (
        await session.scalars(
            select(Product.min_price).where(
                Product.category_id == category_id, Product.status == ListingStatus.LIVE.value
            )
        )
    ).all()
    live = (
        await session.execute(
            select(Product.code, Product.name, Product.description)
            .where(Product.status == ListingStatus.LIVE.value)
            .order_by(Product.id.desc())
            .limit(policy.duplicate_window)
        )
    ).all()
    texts = [(code, checks.listing_text(name, description)) for code, name, description in live]
    return checks.CheckContext(category_prices=list(prices), live_texts=texts)


def _draft(category: Category, content: ListingContent, variants: list[VariantInput]) -> ProductDraft:
    """The catalogue's own draft shape, so search documents and facets are built as everywhere else."""
    unused = ""  # code and merchant: not part of a search document or facets
    return ProductDraft(
        unused,
        unused,
        category_code=category.code,
        name=content.name,
        description=content.description,
        variants=[VariantDraft(v.sku, v.options, v.price, v.stock) for v in variants],
        brand=content.brand,
        attributes=content.attributes,
        images=content.images,
    )


async def merchant_code(uow: Work, merchant_id: int) -> str:
    code = await uow.session.scalar(select(Merchant.code).where(Merchant.id == merchant_id))
    return code or ""


@dataclass(frozen=True, slots=True)
class NewListing:
    """One listing to insert: its category row, the cleaned entry, the checks' findings."""

    category: Category
    entry: ListingInput
    findings: list[checks.Finding]


def _product(merchant_id: int, listing: NewListing, now: datetime) -> Product:
    entry, content, category = listing.entry, listing.entry.content, listing.category
    textproc.add_terms([*content.name.values(), *([content.brand] if content.brand else [])])
    prices = [v.price for v in entry.variants]
    return Product(
        code=entry.code,
        merchant_id=merchant_id,
        category_id=category.id,
        brand=content.brand,
        name=content.name,
        description=content.description,
        attributes=content.attributes,
        synonyms=[],
        images=content.images,
        status=ListingStatus.PENDING_REVIEW.value,
        currency=entry.currency,
        min_price=min(prices),
        max_price=max(prices),
        sales_count=0,
        created_at=now,
        updated_at=now,
        search_document=textproc.document(_search_texts(_draft(category, content, entry.variants), category)),
    )


async def insert_listings(uow: Work, merchant_id: int, listings: list[NewListing], actor: str) -> None:
    """The listings, their SKUs and stock, in review (draft -> pending_review) with a submission item
    each; three flushes for the whole batch (a CSV import writes hundreds at a time)."""
    session = uow.session
    now = uow.now()
    products = [_product(merchant_id, listing, now) for listing in listings]
    try:
        session.add_all(products)
        await session.flush()
        skus = [
            (
                variant,
                Sku(
                    product_id=product.id,
                    code=variant.sku,
                    options=dict(variant.options),
                    price=variant.price,
                    currency=listing.entry.currency,
                ),
            )
            for product, listing in zip(products, listings, strict=True)
            for variant in listing.entry.variants
        ]
        session.add_all(sku for _, sku in skus)
        await session.flush()
    except IntegrityError as exc:
        raise InvalidInput("product or SKU code already exists", code="duplicate_code", field="code") from exc
    session.add_all(StockLevel(sku_id=sku.id, on_hand=variant.stock, reserved=0) for variant, sku in skus)
    for product, listing in zip(products, listings, strict=True):
        draft = _draft(listing.category, listing.entry.content, listing.entry.variants)
        session.add_all(ProductFacet(product_id=product.id, name=k, value=v) for k, v in _facets(draft))
        session.add(review_item(uow, product.id, ReviewKind.SUBMISSION, listing.findings))
        uow.record_status("product", product.id, None, ListingStatus.DRAFT.value, actor)
        uow.record_status(
            "product", product.id, ListingStatus.DRAFT.value, ListingStatus.PENDING_REVIEW.value, actor
        )
    await session.flush()


async def apply_content(uow: Work, product: Product, content: ListingContent) -> None:
    """Make ``content`` the listing's own (texts, attributes, images), with its search words and facets."""
    session = uow.session
    category = await session.get(Category, product.category_id)
    assert category is not None
    skus = (await session.scalars(select(Sku).where(Sku.product_id == product.id).order_by(Sku.id))).all()
    variants = [VariantInput(s.code, dict(s.options), s.price, 0) for s in skus]
    draft = _draft(category, content, variants)
    textproc.add_terms([*content.name.values(), *([content.brand] if content.brand else [])])
    product.name = content.name
    product.description = content.description
    product.attributes = content.attributes
    product.images = content.images
    product.brand = content.brand
    product.search_document = textproc.document([*_search_texts(draft, category), *product.synonyms])
    product.updated_at = uow.now()
    await session.execute(delete(ProductFacet).where(ProductFacet.product_id == product.id))
    session.add_all(ProductFacet(product_id=product.id, name=k, value=v) for k, v in _facets(draft))
    await session.flush()


def review_item(
    uow: Work,
    product_id: int,
    kind: ReviewKind,
    findings: list[checks.Finding],
    *,
    content: ListingContent | None = None,
    note: str | None = None,
    reporter: str | None = None,
) -> ListingReview:
    return ListingReview(
        product_id=product_id,
        kind=kind.value,
        state=ReviewState.OPEN.value,
        content=content.as_dict() if content is not None else None,
        findings=[f.as_dict() for f in findings],
        note=note,
        reporter=reporter,
        created_at=uow.now(),
    )


async def open_review(
    uow: Work,
    product_id: int,
    kind: ReviewKind,
    findings: list[checks.Finding],
    *,
    content: ListingContent | None = None,
    note: str | None = None,
    reporter: str | None = None,
) -> ListingReview:
    item = review_item(uow, product_id, kind, findings, content=content, note=note, reporter=reporter)
    uow.session.add(item)
    await uow.session.flush()
    return item


def content_of(product: Product) -> ListingContent:
    return ListingContent(
        name=dict(product.name),
        description=dict(product.description),
        attributes=dict(product.attributes),
        images=list(product.images),
        brand=product.brand,
    )


def item_view(item: ListingReview, product: Product, merchant: str) -> ReviewItemView:
    content = ListingContent.from_dict(item.content) if item.content is not None else content_of(product)
    return ReviewItemView(
        id=item.id,
        kind=item.kind,
        state=item.state,
        product_code=product.code,
        merchant_id=product.merchant_id,
        merchant_code=merchant,
        product_status=product.status,
        findings=tuple(
            FindingView(str(f.get("code", "")), str(f.get("field", "")), str(f.get("detail", "")))
            for f in item.findings
        ),
        content=content,
        note=item.note,
        created_at=item.created_at,
        decided_by=item.decided_by,
        decision_reason=item.decision_reason,
        decided_at=item.decided_at,
    )
