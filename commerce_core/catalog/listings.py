"""Listing moderation, the merchant's side (R4.3-1/2): enter a listing, edit it, change stock and
prices, import many from CSV; and the shopper's report.

Every call takes the merchant's id and finds the listing through it: another merchant's listing is
"not found" (``product_not_found``), exactly like one that does not exist. Submitting runs the
automated checks (:mod:`commerce_core.catalog.checks`) and puts the listing in the review queue; a
live listing's new version waits there while the old one stays on sale; stock and prices apply at
once, and a price move beyond the policy's range is flagged to staff. The reviewer's side is
:mod:`commerce_core.catalog.listings_review`.
"""

from __future__ import annotations

from sqlalchemy import func, select, update

from commerce_core.catalog import checks, listings_store
from commerce_core.catalog.listings_csv import import_rows
from commerce_core.catalog.listings_types import (
    REPORT_REASONS,
    ImportReport,
    ListingContent,
    ListingDetail,
    ListingInput,
    ListingPolicy,
    ReviewKind,
    ReviewState,
    VariantInput,
)
from commerce_core.catalog.model import LISTING_STATUS, Category, ListingReview, Product, Sku
from commerce_core.catalog.queries import load_product_view
from commerce_core.catalog.types import ListingStatus
from commerce_core.errors import InvalidInput, NotFound
from commerce_core.events import ProductStatusChanged
from commerce_core.inventory.model import StockLevel
from commerce_core.money import check_amount
from commerce_core.uow import UnitOfWork, Units

#: statuses whose listing is edited in place (nothing of it is on sale)
EDITABLE_IN_PLACE = frozenset(
    {ListingStatus.DRAFT.value, ListingStatus.PENDING_REVIEW.value, ListingStatus.REJECTED.value}
)


async def _own_product(uow: UnitOfWork, merchant_id: int, code: str, *, lock: bool = False) -> Product:
    query = select(Product).where(Product.code == (code or "").strip(), Product.merchant_id == merchant_id)
    product = await uow.session.scalar(query.with_for_update() if lock else query)
    if product is None:
        raise NotFound("no such product", code="product_not_found")
    return product


async def _category(uow: UnitOfWork, code: str) -> Category:
    category = await uow.session.scalar(select(Category).where(Category.code == code))
    if category is None:
        raise InvalidInput(f"no category {code!r}", code="category_not_found", field="category")
    return category


async def _close_open(uow: UnitOfWork, product_id: int, kinds: tuple[ReviewKind, ...], why: str) -> None:
    """Close open items a newer submission supersedes (the reviewer sees only the latest version)."""
    await uow.session.execute(
        update(ListingReview)
        .where(
            ListingReview.product_id == product_id,
            ListingReview.state == ReviewState.OPEN.value,
            ListingReview.kind.in_([k.value for k in kinds]),
        )
        .values(
            state=ReviewState.REJECTED.value, decision_reason=why, decided_at=uow.now(), decided_by="system"
        )
    )


class ListingService:
    def __init__(self, units: Units, policy: ListingPolicy | None = None) -> None:
        self._units = units
        self.policy = policy or ListingPolicy()

    # -- entering and editing ---------------------------------------------------------------------
    async def submit(self, merchant_id: int, entry: ListingInput, *, actor: str) -> ListingDetail:
        """A new listing, checked and sent to review (not on sale until a reviewer approves it)."""
        entry = listings_store.clean_input(entry)
        async with self._units.orm() as uow:
            category = await _category(uow, entry.category_code)
            context = await listings_store.check_context(uow, category.id, self.policy)
            findings = checks.check_listing(
                listings_store.facts(category.code, entry.content, entry.variants, entry.code), context
            )
            batch = [listings_store.NewListing(category, entry, findings)]
            await listings_store.insert_listings(uow, merchant_id, batch, actor)
            await uow.commit()
        return await self.detail(merchant_id, entry.code)

    async def import_csv(self, merchant_id: int, data: str, *, actor: str) -> ImportReport:
        """Listings from a CSV text: every good row submitted to review, every bad row reported."""
        return await import_rows(self._units, self.policy, merchant_id, data, actor=actor)

    async def edit(
        self, merchant_id: int, code: str, content: ListingContent, *, actor: str
    ) -> ListingDetail:
        """New texts, attributes or images, checked and sent to review.

        A listing not on sale is changed in place (a rejected one goes back to review); a live (or
        delisted) one keeps its approved content on sale and the new version waits in the queue.
        """
        content = listings_store.clean_content(content)
        async with self._units.orm() as uow:
            product = await _own_product(uow, merchant_id, code, lock=True)
            category = await uow.session.get(Category, product.category_id)
            assert category is not None
            skus = (await uow.session.scalars(select(Sku).where(Sku.product_id == product.id))).all()
            variants = [VariantInput(s.code, dict(s.options), s.price, 0) for s in skus]
            context = await listings_store.check_context(uow, category.id, self.policy)
            findings = checks.check_listing(
                listings_store.facts(category.code, content, variants, product.code), context
            )
            if product.status in EDITABLE_IN_PLACE:
                await listings_store.apply_content(uow, product, content)
                await _close_open(uow, product.id, (ReviewKind.SUBMISSION,), "superseded by a new version")
                current = ListingStatus(product.status)
                if current is not ListingStatus.PENDING_REVIEW:
                    LISTING_STATUS.check(current, ListingStatus.PENDING_REVIEW)
                    product.status = ListingStatus.PENDING_REVIEW.value
                    uow.record_status("product", product.id, current.value, product.status, actor)
                    uow.emit(
                        ProductStatusChanged(product.code, merchant_id, current.value, product.status, None)
                    )
                await listings_store.open_review(uow, product.id, ReviewKind.SUBMISSION, findings)
            else:
                await _close_open(uow, product.id, (ReviewKind.REVISION,), "superseded by a new version")
                await listings_store.open_review(
                    uow, product.id, ReviewKind.REVISION, findings, content=content
                )
            uow.record_status("listing_content", product.id, None, "submitted", actor)
            await uow.commit()
        return await self.detail(merchant_id, code)

    # -- stock and price: at once -----------------------------------------------------------------
    async def set_stock(self, merchant_id: int, sku_code: str, on_hand: int, *, actor: str) -> None:
        """Counted stock of one of my SKUs, at once; never below what unpaid orders reserve."""
        if isinstance(on_hand, bool) or not isinstance(on_hand, int) or not 0 <= on_hand <= 10**7:
            raise InvalidInput(
                "stock must be between 0 and 10,000,000", code="invalid_quantity", field="stock"
            )
        async with self._units.orm() as uow:
            sku = await self._own_sku(uow, merchant_id, sku_code)
            level = await uow.session.scalar(
                select(StockLevel).where(StockLevel.sku_id == sku.id).with_for_update()
            )
            if level is None:
                level = StockLevel(sku_id=sku.id, on_hand=0, reserved=0)
                uow.session.add(level)
            if on_hand < level.reserved:
                raise InvalidInput(
                    "stock cannot go below reserved units", code="below_reserved", field="stock"
                )
            uow.record_status("stock", sku.id, str(level.on_hand), str(on_hand), actor)
            level.on_hand = on_hand
            await uow.commit()

    async def set_price(self, merchant_id: int, sku_code: str, price: int, *, actor: str) -> bool:
        """A new price for one of my SKUs, at once. Returns whether it moved beyond the policy's range,
        in which case a ``price`` item is put in the review queue for staff to look at."""
        try:
            check_amount(price, allow_zero=False)
        except InvalidInput as exc:
            raise InvalidInput(
                "price must be a positive amount", code="invalid_price", field="price"
            ) from exc
        async with self._units.orm() as uow:
            sku = await self._own_sku(uow, merchant_id, sku_code, lock=True)
            old = sku.price
            sku.price = price
            await uow.flush()
            low, high = (
                await uow.session.execute(
                    select(func.min(Sku.price), func.max(Sku.price)).where(Sku.product_id == sku.product_id)
                )
            ).one()
            await uow.session.execute(
                update(Product)
                .where(Product.id == sku.product_id)
                .values(min_price=low, max_price=high, updated_at=uow.now())
            )
            uow.record_status("sku_price", sku.id, str(old), str(price), actor)
            flagged = checks.price_change_flagged(old, price, self.policy.price_change_flag_percent)
            if flagged:
                finding = checks.Finding("price_change", "price", f"{sku.code}: {old} -> {price}")
                await listings_store.open_review(
                    uow, sku.product_id, ReviewKind.PRICE, [finding], note=f"{sku.code}:{old}:{price}"
                )
            await uow.commit()
            return flagged

    async def _own_sku(self, uow: UnitOfWork, merchant_id: int, sku_code: str, *, lock: bool = False) -> Sku:
        query = (
            select(Sku)
            .join(Product, Product.id == Sku.product_id)
            .where(Sku.code == (sku_code or "").strip(), Product.merchant_id == merchant_id)
        )
        sku = await uow.session.scalar(query.with_for_update(of=Sku) if lock else query)
        if sku is None:
            raise NotFound("no such SKU", code="sku_not_found")
        return sku

    # -- reads ------------------------------------------------------------------------------------
    async def detail(self, merchant_id: int, code: str) -> ListingDetail:
        """My listing with its waiting version and its latest decision (another's: not found)."""
        async with self._units.orm() as uow:
            product = await _own_product(uow, merchant_id, code)
            view = await load_product_view(uow, product.code)
            assert view is not None
            merchant = await listings_store.merchant_code(uow, merchant_id)
            items = (
                await uow.session.scalars(
                    select(ListingReview)
                    .where(ListingReview.product_id == product.id)
                    .order_by(ListingReview.id.desc())
                    .limit(20)
                )
            ).all()
            opened = next((i for i in items if i.state == ReviewState.OPEN.value), None)
            decided = next(
                (i for i in items if i.state != ReviewState.OPEN.value and i.decided_by != "system"), None
            )
            stock = {
                code: on_hand
                for code, on_hand in (
                    await uow.session.execute(
                        select(Sku.code, StockLevel.on_hand)
                        .join(StockLevel, StockLevel.sku_id == Sku.id)
                        .where(Sku.product_id == product.id)
                    )
                ).all()
            }
            return ListingDetail(
                product=view,
                pending=listings_store.item_view(opened, product, merchant) if opened else None,
                latest=listings_store.item_view(decided, product, merchant) if decided else None,
                stock=stock,
            )

    # -- shoppers ---------------------------------------------------------------------------------
    async def report(self, product_code: str, customer_id: int, reason: str) -> bool:
        """A shopper reports a live listing: it goes to the review queue (once per shopper), and when
        ``report_threshold`` shoppers have reported it, off sale until a reviewer decides.

        Returns whether the report was new (a second report by the same shopper changes nothing).
        """
        if reason not in REPORT_REASONS:
            raise InvalidInput("unknown report reason", code="invalid_reason", field="reason")
        reporter = f"customer:{customer_id}"
        async with self._units.orm() as uow:
            product = await uow.session.scalar(
                select(Product).where(Product.code == product_code).with_for_update()
            )
            if product is None or product.status != ListingStatus.LIVE.value:
                raise NotFound("no such product", code="product_not_found")
            open_reports = (
                await uow.session.scalars(
                    select(ListingReview.reporter).where(
                        ListingReview.product_id == product.id,
                        ListingReview.kind == ReviewKind.REPORT.value,
                        ListingReview.state == ReviewState.OPEN.value,
                    )
                )
            ).all()
            if reporter in open_reports:
                return False
            finding = checks.Finding("reported", "listing", reason)
            await listings_store.open_review(
                uow, product.id, ReviewKind.REPORT, [finding], note=reason, reporter=reporter
            )
            if len(open_reports) + 1 >= self.policy.report_threshold:
                product.status = ListingStatus.PENDING_REVIEW.value
                product.updated_at = uow.now()
                uow.record_status(
                    "product", product.id, ListingStatus.LIVE.value, product.status, reporter, reason
                )
                uow.emit(
                    ProductStatusChanged(
                        product.code, product.merchant_id, ListingStatus.LIVE.value, product.status, reason
                    )
                )
            await uow.commit()
            return True
