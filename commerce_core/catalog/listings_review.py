"""Listing moderation, the reviewer's side (R4.3-2/3): the queue, one item with its findings, and the
decision (approve, or reject with a reason) that moves the listing and tells the merchant.

Approve and reject are always about the listing: approving a submission puts it on sale, approving
a new version replaces the live content, approving a report or a price flag keeps the listing on
sale (back on sale, if reports took it off). Rejecting a submission sends it back to the merchant
with the reason, rejecting a new version leaves the live content as it is, and rejecting a reported
or price-flagged listing takes it off sale. Every decision emits :class:`ListingReviewed` (the
merchant's notification) and is journalled with its actor and reason.
"""

from __future__ import annotations

from sqlalchemy import select, update

from commerce_core.catalog import listings_store
from commerce_core.catalog.listings_types import ListingContent, ReviewItemView, ReviewKind, ReviewState
from commerce_core.catalog.model import LISTING_STATUS, ListingReview, Product
from commerce_core.catalog.types import ListingStatus
from commerce_core.errors import IllegalTransition, InvalidInput, NotFound
from commerce_core.events import ListingReviewed, ProductStatusChanged
from commerce_core.merchants.model import Merchant
from commerce_core.uow import UnitOfWork, Units
from commerce_core.validation import clean_text

MAX_QUEUE = 200


def _move(uow: UnitOfWork, product: Product, target: ListingStatus, actor: str, reason: str | None) -> None:
    current = ListingStatus(product.status)
    if current is target:
        return
    LISTING_STATUS.check(current, target)
    product.status = target.value
    product.status_reason = reason
    product.updated_at = uow.now()
    uow.record_status("product", product.id, current.value, target.value, actor, reason)
    uow.emit(ProductStatusChanged(product.code, product.merchant_id, current.value, target.value, reason))


class ListingReviews:
    def __init__(self, units: Units) -> None:
        self._units = units

    async def queue(self, *, limit: int = 100, offset: int = 0) -> list[ReviewItemView]:
        """Open items, oldest first."""
        if not 1 <= limit <= MAX_QUEUE or offset < 0:
            raise InvalidInput("page out of range", code="invalid_page")
        async with self._units.orm() as uow:
            rows = (
                await uow.session.execute(
                    select(ListingReview, Product, Merchant.code)
                    .join(Product, Product.id == ListingReview.product_id)
                    .join(Merchant, Merchant.id == Product.merchant_id)
                    .where(ListingReview.state == ReviewState.OPEN.value)
                    .order_by(ListingReview.id)
                    .limit(limit)
                    .offset(offset)
                )
            ).all()
            return [listings_store.item_view(item, product, code) for item, product, code in rows]

    async def item(self, item_id: int) -> ReviewItemView:
        async with self._units.orm() as uow:
            row = (
                await uow.session.execute(
                    select(ListingReview, Product, Merchant.code)
                    .join(Product, Product.id == ListingReview.product_id)
                    .join(Merchant, Merchant.id == Product.merchant_id)
                    .where(ListingReview.id == item_id)
                )
            ).first()
            if row is None:
                raise NotFound("no such review item", code="review_not_found")
            return listings_store.item_view(row[0], row[1], row[2])

    async def decide(
        self, item_id: int, *, approve: bool, actor: str, reason: str | None = None
    ) -> ReviewItemView:
        """Approve, or reject with a reason (required), one open item."""
        reason = clean_text(reason, "reason", max_length=1000, required=not approve) or None
        async with self._units.orm() as uow:
            item = await uow.session.scalar(
                select(ListingReview).where(ListingReview.id == item_id).with_for_update()
            )
            if item is None:
                raise NotFound("no such review item", code="review_not_found")
            if item.state != ReviewState.OPEN.value:
                raise IllegalTransition("this item was already decided", code="review_decided")
            product = await uow.session.scalar(
                select(Product).where(Product.id == item.product_id).with_for_update()
            )
            assert product is not None
            kind = ReviewKind(item.kind)
            if approve:
                await self._approve(uow, kind, item, product, actor)
            else:
                self._reject(uow, kind, product, actor, reason)
            now = uow.now()
            item.state = (ReviewState.APPROVED if approve else ReviewState.REJECTED).value
            item.decided_by, item.decided_at, item.decision_reason = actor, now, reason
            if kind is ReviewKind.REPORT or (not approve and kind is ReviewKind.PRICE):
                # one decision answers every open report of this listing
                await uow.session.execute(
                    update(ListingReview)
                    .where(
                        ListingReview.product_id == product.id,
                        ListingReview.kind == ReviewKind.REPORT.value,
                        ListingReview.state == ReviewState.OPEN.value,
                    )
                    .values(state=item.state, decided_by=actor, decided_at=now, decision_reason=reason)
                )
            uow.record_status("listing_review", item.id, ReviewState.OPEN.value, item.state, actor, reason)
            decision = item.state
            uow.emit(ListingReviewed(product.code, product.merchant_id, kind.value, decision, reason))
            await uow.flush()
            merchant = await listings_store.merchant_code(uow, product.merchant_id)
            view = listings_store.item_view(item, product, merchant)
            await uow.commit()
            return view

    async def _approve(
        self, uow: UnitOfWork, kind: ReviewKind, item: ListingReview, product: Product, actor: str
    ) -> None:
        if kind is ReviewKind.SUBMISSION:
            _move(uow, product, ListingStatus.LIVE, actor, None)
        elif kind is ReviewKind.REVISION:
            assert item.content is not None
            await listings_store.apply_content(uow, product, ListingContent.from_dict(item.content))
        elif kind is ReviewKind.REPORT and product.status == ListingStatus.PENDING_REVIEW.value:
            _move(uow, product, ListingStatus.LIVE, actor, None)  # reports took it off sale: back on

    def _reject(
        self, uow: UnitOfWork, kind: ReviewKind, product: Product, actor: str, reason: str | None
    ) -> None:
        if kind is ReviewKind.SUBMISSION:
            _move(uow, product, ListingStatus.REJECTED, actor, reason)
        elif kind in (ReviewKind.REPORT, ReviewKind.PRICE):
            status = ListingStatus(product.status)
            if status is ListingStatus.LIVE:
                _move(uow, product, ListingStatus.DELISTED, actor, reason)
            elif status is ListingStatus.PENDING_REVIEW:
                _move(uow, product, ListingStatus.REJECTED, actor, reason)
        # a rejected new version: the live content stays as it is
