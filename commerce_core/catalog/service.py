"""Catalogue use cases: categories, product listings and their review status, reads and search.

Listing management runs on ORM units; shopper reads (product pages, SKUs, search) run on hot units
with the column statements of :mod:`commerce_core.catalog.queries` and :mod:`.search`.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from commerce_core.catalog import queries
from commerce_core.catalog import search as search_module
from commerce_core.catalog import text as textproc
from commerce_core.catalog.model import LISTING_STATUS, Category, Product, ProductFacet, Sku
from commerce_core.catalog.types import (
    CatalogueEntry,
    CategoryEntry,
    ListingStatus,
    ProductDraft,
    ProductView,
    SearchPage,
    SearchQuery,
    SkuListing,
)
from commerce_core.errors import InvalidInput, NotFound
from commerce_core.events import ProductStatusChanged
from commerce_core.inventory.model import StockLevel
from commerce_core.merchants.model import Merchant
from commerce_core.merchants.visibility import merchant_on_sale
from commerce_core.money import check_amount, check_currency
from commerce_core.uow import Units
from commerce_core.validation import check_code, clean_text, localized

MAX_VARIANTS = 100


def _facets(draft: ProductDraft) -> set[tuple[str, str]]:
    facets = {(k, str(v).lower()) for variant in draft.variants for k, v in variant.options.items()}
    for key, value in draft.attributes.items():
        canonical = value.get("en") if isinstance(value, dict) else value
        if canonical:
            facets.add((key, str(canonical).lower()[:128]))
    if draft.brand:
        facets.add(("brand", draft.brand.lower()))
    return facets


def _search_texts(draft: ProductDraft, category: Category) -> list[str]:
    texts = [*draft.name.values(), *draft.synonyms, *category.name.values(), *category.synonyms]
    if draft.brand:
        texts.append(draft.brand)
    for value in draft.attributes.values():
        texts.extend(value.values() if isinstance(value, dict) else [str(value)])
    for variant in draft.variants:
        texts.extend(variant.options.values())
    return texts


class CatalogService:
    def __init__(self, units: Units) -> None:
        self._units = units

    # -- categories -------------------------------------------------------------------------------
    async def create_category(
        self,
        code: str,
        name: dict[str, str],
        *,
        parent: str | None = None,
        synonyms: list[str] | None = None,
        position: int = 0,
    ) -> int:
        check_code(code, "category")
        async with self._units.orm() as uow:
            parent_id = None
            if parent is not None:
                parent_id = await uow.session.scalar(select(Category.id).where(Category.code == parent))
                if parent_id is None:
                    raise NotFound(f"no category {parent!r}", code="category_not_found", category=parent)
            category = Category(
                code=code,
                name=localized(name, "name", max_length=100),
                parent_id=parent_id,
                synonyms=[clean_text(s, "synonym", max_length=50) for s in synonyms or []],
                position=position,
            )
            uow.session.add(category)
            await uow.flush()
            await uow.commit()
            textproc.add_terms([*category.name.values(), *category.synonyms])
            return category.id

    async def categories(self) -> list[CategoryEntry]:
        async with self._units.orm() as uow:
            rows = (
                await uow.session.scalars(select(Category).order_by(Category.position, Category.id))
            ).all()
            by_id = {c.id: c.code for c in rows}
            return [
                CategoryEntry(
                    c.code, by_id.get(c.parent_id) if c.parent_id else None, dict(c.name), list(c.synonyms)
                )
                for c in rows
            ]

    # -- products ---------------------------------------------------------------------------------
    async def create_product(self, draft: ProductDraft, *, actor: str = "system") -> ProductView:
        """Create a listing in ``draft`` status with its SKUs and stock; validates everything first."""
        check_code(draft.code, "product")
        check_currency(draft.currency)
        name = localized(draft.name, "name", max_length=200)
        description = localized(draft.description, "description", max_length=5000)
        if not draft.variants or len(draft.variants) > MAX_VARIANTS:
            raise InvalidInput("a product needs 1 to 100 variants", code="invalid_variants")
        for variant in draft.variants:
            check_code(variant.sku, "sku")
            check_amount(variant.price, allow_zero=False)
            if isinstance(variant.stock, bool) or not isinstance(variant.stock, int) or variant.stock < 0:
                raise InvalidInput("stock must be a whole number >= 0", code="invalid_quantity")
        if len({v.sku for v in draft.variants}) != len(draft.variants):
            raise InvalidInput("duplicate SKU codes", code="duplicate_sku")
        brand = clean_text(draft.brand, "brand", max_length=100, required=False) or None
        synonyms = [clean_text(s, "synonym", max_length=50) for s in draft.synonyms][:50]
        images = [clean_text(i, "image", max_length=500) for i in draft.images][:20]
        prices = [v.price for v in draft.variants]
        # teach the segmenter the product's own words first, so its document holds them whole
        textproc.add_terms([*name.values(), *synonyms, *([brand] if brand else [])])
        async with self._units.orm() as uow:
            session = uow.session
            merchant_id = await session.scalar(
                select(Merchant.id).where(Merchant.code == draft.merchant_code)
            )
            if merchant_id is None:
                raise NotFound(f"no merchant {draft.merchant_code!r}", code="merchant_not_found")
            category = await session.scalar(select(Category).where(Category.code == draft.category_code))
            if category is None:
                raise NotFound(f"no category {draft.category_code!r}", code="category_not_found")
            now = uow.now()
            product = Product(
                code=draft.code,
                merchant_id=merchant_id,
                category_id=category.id,
                brand=brand,
                name=name,
                description=description,
                attributes=draft.attributes,
                synonyms=synonyms,
                images=images,
                status=ListingStatus.DRAFT.value,
                currency=draft.currency,
                min_price=min(prices),
                max_price=max(prices),
                sales_count=0,
                created_at=now,
                updated_at=now,
                search_document=textproc.document(_search_texts(draft, category)),
            )
            session.add(product)
            try:
                await session.flush()
                for variant in draft.variants:
                    sku = Sku(
                        product_id=product.id,
                        code=variant.sku,
                        options=dict(variant.options),
                        price=variant.price,
                        currency=draft.currency,
                    )
                    session.add(sku)
                    await session.flush()
                    session.add(StockLevel(sku_id=sku.id, on_hand=variant.stock, reserved=0))
                session.add_all(
                    ProductFacet(product_id=product.id, name=k, value=v) for k, v in _facets(draft)
                )
                await session.flush()
            except IntegrityError as exc:
                raise InvalidInput("product or SKU code already exists", code="duplicate_code") from exc
            uow.record_status("product", product.id, None, ListingStatus.DRAFT.value, actor)
            view = await queries.load_product_view(uow, product.code)
            await uow.commit()
        assert view is not None
        return view

    async def change_status(
        self, code: str, target: ListingStatus, *, actor: str, reason: str | None = None
    ) -> ProductView:
        """Move a listing through review: submit, approve, reject (with a reason), delist."""
        if target is ListingStatus.REJECTED and not (reason and reason.strip()):
            raise InvalidInput("a rejection needs a reason", code="reason_required")
        async with self._units.orm() as uow:
            product = await uow.session.scalar(select(Product).where(Product.code == code).with_for_update())
            if product is None:
                raise NotFound(f"no product {code!r}", code="product_not_found", product=code)
            current = ListingStatus(product.status)
            LISTING_STATUS.check(current, target)
            product.status = target.value
            product.status_reason = clean_text(reason, "reason", max_length=1000, required=False) or None
            product.updated_at = uow.now()
            uow.record_status("product", product.id, current.value, target.value, actor, reason)
            uow.emit(
                ProductStatusChanged(product.code, product.merchant_id, current.value, target.value, reason)
            )
            await uow.flush()
            view = await queries.load_product_view(uow, product.code)
            await uow.commit()
            assert view is not None
            return view

    async def publish(self, code: str, *, actor: str = "system") -> ProductView:
        """Submit and approve in one go (used by seeding and trusted imports)."""
        await self.change_status(code, ListingStatus.PENDING_REVIEW, actor=actor)
        return await self.change_status(code, ListingStatus.LIVE, actor=actor)

    async def set_price(self, sku_code: str, price: int, *, actor: str) -> None:
        check_amount(price, allow_zero=False)
        async with self._units.orm() as uow:
            sku = await uow.session.scalar(select(Sku).where(Sku.code == sku_code).with_for_update())
            if sku is None:
                raise NotFound(f"no SKU {sku_code!r}", code="sku_not_found", sku=sku_code)
            sku.price = price
            await uow.flush()
            bounds = (
                await uow.session.execute(
                    select(func.min(Sku.price), func.max(Sku.price)).where(Sku.product_id == sku.product_id)
                )
            ).one()
            await uow.session.execute(
                update(Product)
                .where(Product.id == sku.product_id)
                .values(min_price=bounds[0], max_price=bounds[1], updated_at=uow.now())
            )
            uow.record_status("sku_price", sku.id, None, str(price), actor)
            await uow.commit()

    async def get_product(self, code: str, *, live_only: bool = True) -> ProductView:
        async with self._units.hot() as uow:
            view = await queries.load_product_view(uow, code)
        if view is None or (live_only and view.status != ListingStatus.LIVE.value):
            raise NotFound(f"no product {code!r}", code="product_not_found", product=code)
        return view

    async def sku(self, code: str) -> SkuListing:
        """The SKU ``code`` with its product, in whatever listing status (check ``on_sale``).

        Raises NotFound (``sku_not_found``) for a code no SKU has.
        """
        async with self._units.hot() as uow:
            found = await queries.load_sku_listing(uow, code)
        if found is None:
            raise NotFound(f"no SKU {code!r}", code="sku_not_found", sku=code)
        return found

    async def get_product_by_id(self, product_id: int, *, live_only: bool = True) -> ProductView:
        async with self._units.hot() as uow:
            code = await queries.product_code(uow, product_id)
        if code is None:
            raise NotFound("no such product", code="product_not_found")
        return await self.get_product(code, live_only=live_only)

    async def search(self, query: SearchQuery) -> SearchPage:
        async with self._units.hot() as uow:
            return await search_module.search(uow, query)

    async def popular(
        self, *, category: str | None = None, limit: int = 5, exclude: tuple[str, ...] = ()
    ) -> SearchPage:
        return await self.search(
            SearchQuery(
                category=category, sort="sales", page_size=limit, in_stock_only=True, exclude_codes=exclude
            )
        )

    async def similar(self, code: str, *, limit: int = 5) -> SearchPage:
        """Products of the same category, closest in price first: "more like this"."""
        product = await self.get_product(code)
        page = await self.search(
            SearchQuery(
                category=product.category_code,
                page_size=search_module.MAX_PAGE_SIZE,
                in_stock_only=True,
                exclude_codes=(code,),
                sort="sales",
            )
        )
        anchor = product.min_price.amount
        ranked = sorted(page.items, key=lambda p: abs(p.min_price.amount - anchor))[:limit]
        return SearchPage(tuple(ranked), len(ranked), 1, limit)

    async def load_search_terms(self) -> int:
        """Teach this process's segmenter every catalogue word (call once at start-up).

        Documents were segmented with these words known; a query must be segmented the same way, or
        "手机壳" would be split into words the index does not hold.
        """
        async with self._units.orm() as uow:
            terms: list[str] = []
            for name, synonyms, brand in (
                await uow.session.execute(select(Product.name, Product.synonyms, Product.brand))
            ).all():
                terms += [*name.values(), *synonyms, *([brand] if brand else [])]
            for name, synonyms in (await uow.session.execute(select(Category.name, Category.synonyms))).all():
                terms += [*name.values(), *synonyms]
        textproc.add_terms(terms)
        return len(terms)

    async def catalogue_terms(self) -> list[CatalogueEntry]:
        """What the NLU needs to recognise live products, as plain data."""
        async with self._units.orm() as uow:
            rows = (
                await uow.session.execute(
                    select(Product.code, Product.name, Product.synonyms, Product.brand, Category.code)
                    .join(Category, Category.id == Product.category_id)
                    .where(Product.status == ListingStatus.LIVE.value)
                    .where(merchant_on_sale(Product.merchant_id))  # frozen merchants: not matched
                    .order_by(Product.id)
                )
            ).all()
            return [CatalogueEntry(r[0], dict(r[1]), list(r[2]), r[3], r[4]) for r in rows]

    async def delete_draft(self, code: str) -> None:
        async with self._units.orm() as uow:
            result = await uow.session.execute(
                delete(Product).where(Product.code == code, Product.status == ListingStatus.DRAFT.value)
            )
            if not getattr(result, "rowcount", 0):
                raise NotFound("no draft with that code", code="product_not_found")
            await uow.commit()
