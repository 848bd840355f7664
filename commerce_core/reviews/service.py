"""Product reviews (R5.3-1): who may rate what, the checks a comment goes through, what a card shows,
and the staff decision on a held review.

Who may review is decided here from the orders, never from a button: the shopper must have an order
of their own containing the product that was delivered (or completed). A comment goes through the
same automated checks as listings (:func:`commerce_core.catalog.checks.check_comment`); with any
finding the whole review is held (neither its rating nor its comment counts or shows) until a
reviewer approves it. Every decision is journalled with its actor and reason.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError

from commerce_core.catalog.checks import check_comment
from commerce_core.catalog.model import Product
from commerce_core.errors import DomainError, IllegalTransition, InvalidInput, NotAllowed, NotFound
from commerce_core.orders.model import Order, OrderLine
from commerce_core.orders.types import OrderStatus
from commerce_core.reviews.model import ProductReview
from commerce_core.reviews.types import (
    COMMENT_LIMIT,
    RATING_MAX,
    RATING_MIN,
    ProductReviewView,
    ReviewableItem,
    ReviewStatus,
    ReviewSummary,
)
from commerce_core.uow import UnitOfWork, Units
from commerce_core.validation import clean_text

#: orders whose items the shopper has in hand
RECEIVED = (OrderStatus.DELIVERED.value, OrderStatus.COMPLETED.value)
MAX_QUEUE = 200
#: the product card's count and average in one prepared statement on the hot unit (every product card
#: asks; most products have no review, and then the ORM unit and its two more queries are not needed).
#: One row per existing product: (product id, count, average); no row when the code is unknown.
_PUBLISHED_SUMMARY = (
    select(Product.id, func.count(ProductReview.id), func.avg(ProductReview.rating))
    .outerjoin(
        ProductReview,
        (ProductReview.product_id == Product.id) & (ProductReview.status == ReviewStatus.PUBLISHED.value),
    )
    .where(Product.code == bindparam("b_code"))
    .group_by(Product.id)
)


def _view(review: ProductReview, product: Product) -> ProductReviewView:
    return ProductReviewView(
        id=review.id,
        product_code=product.code,
        product_name=dict(product.name),
        rating=review.rating,
        comment=review.comment,
        status=ReviewStatus(review.status),
        findings=list(review.findings or []),
        created_at=review.created_at,
        decided_by=review.decided_by,
        decision_reason=review.decision_reason,
    )


async def _eligible(uow: UnitOfWork, customer_id: int, product_code: str) -> tuple[Product, int]:
    """The product and the shopper's latest received order holding it; raises NotFound (no such
    product), NotAllowed ``not_received`` or IllegalTransition ``already_reviewed``."""
    product = await uow.session.scalar(select(Product).where(Product.code == product_code))
    if product is None:
        raise NotFound("no such product", code="product_not_found")
    order_id = await uow.session.scalar(
        select(Order.id)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(
            Order.customer_id == customer_id,
            Order.status.in_(RECEIVED),
            OrderLine.product_id == product.id,
        )
        .order_by(Order.id.desc())
        .limit(1)
    )
    if order_id is None:
        raise NotAllowed("not received", code="not_received")
    exists = await uow.session.scalar(
        select(ProductReview.id).where(
            ProductReview.product_id == product.id, ProductReview.customer_id == customer_id
        )
    )
    if exists is not None:
        raise IllegalTransition("already reviewed", code="already_reviewed")
    return product, order_id


class ProductReviews:
    def __init__(self, units: Units) -> None:
        self._units = units

    async def reviewable(self, customer_id: int, order_number: str) -> list[ReviewableItem]:
        """The products of this shopper's received order, each once; another's order is not found."""
        async with self._units.orm() as uow:
            order = await uow.session.scalar(
                select(Order).where(Order.number == order_number, Order.customer_id == customer_id)
            )
            if order is None:
                raise NotFound("no such order", code="order_not_found")
            if order.status not in RECEIVED:
                raise NotAllowed("not delivered yet", code="not_received")
            rows = (
                await uow.session.execute(
                    select(Product, ProductReview.id)
                    .join(OrderLine, OrderLine.product_id == Product.id)
                    .outerjoin(
                        ProductReview,
                        (ProductReview.product_id == Product.id) & (ProductReview.customer_id == customer_id),
                    )
                    .where(OrderLine.order_id == order.id)
                    .order_by(OrderLine.line_no)
                )
            ).all()
            seen: dict[str, ReviewableItem] = {}
            for product, review_id in rows:
                seen.setdefault(
                    product.code, ReviewableItem(product.code, dict(product.name), review_id is not None)
                )
            return list(seen.values())

    async def refusal(self, customer_id: int, product_code: str) -> str | None:
        """Why this shopper may not review the product now (``not_received``, ``already_reviewed``,
        ``product_not_found``), or None: asked before the comment so a forged button hears it at once."""
        async with self._units.orm() as uow:
            try:
                await _eligible(uow, customer_id, product_code)
            except DomainError as refused:
                return refused.code
            return None

    async def submit(
        self, customer_id: int, product_code: str, rating: int, comment: str | None = None
    ) -> ProductReviewView:
        """Record a review; raises NotAllowed (``not_received``) for a product this shopper has not
        received, IllegalTransition (``already_reviewed``) for a second one, InvalidInput out of bounds."""
        if not isinstance(rating, int) or not RATING_MIN <= rating <= RATING_MAX:
            raise InvalidInput("a rating is 1 to 5", code="invalid_rating", field="rating")
        text = clean_text(comment, "comment", max_length=COMMENT_LIMIT, required=False) or None
        findings = [f.as_dict() for f in check_comment(text)] if text else []
        async with self._units.orm() as uow:
            product, order_id = await _eligible(uow, customer_id, product_code)
            status = ReviewStatus.HELD if findings else ReviewStatus.PUBLISHED
            review = ProductReview(
                product_id=product.id,
                customer_id=customer_id,
                order_id=order_id,
                rating=rating,
                comment=text,
                status=status.value,
                findings=findings,
                created_at=uow.now(),
            )
            uow.session.add(review)
            try:
                await uow.flush()
            except IntegrityError as exc:  # two presses at once: the second is the same "already"
                raise IllegalTransition("already reviewed", code="already_reviewed") from exc
            uow.record_status(
                "product_review", review.id, None, status.value, f"customer:{customer_id}", None
            )
            view = _view(review, product)
            await uow.commit()
            return view

    async def summary(self, product_code: str, *, recent: int = 3) -> ReviewSummary:
        """Published reviews only: their count and average, and the latest ones with a comment."""
        async with self._units.hot(single_statement=True) as hot:
            found = (await hot.execute(_PUBLISHED_SUMMARY, {"b_code": product_code})).first()
        if found is None or not found[1]:  # no such product, or no published review: nothing more to read
            return ReviewSummary(product_code, 0, None)
        async with self._units.orm() as uow:
            product = await uow.session.scalar(select(Product).where(Product.code == product_code))
            if product is None:
                return ReviewSummary(product_code, 0, None)
            published = (ProductReview.product_id == product.id) & (
                ProductReview.status == ReviewStatus.PUBLISHED.value
            )
            count, average = (
                await uow.session.execute(
                    select(func.count(ProductReview.id), func.avg(ProductReview.rating)).where(published)
                )
            ).one()
            latest = (
                await uow.session.scalars(
                    select(ProductReview)
                    .where(published, ProductReview.comment.is_not(None))
                    .order_by(ProductReview.created_at.desc(), ProductReview.id.desc())
                    .limit(recent)
                )
            ).all()
            return ReviewSummary(
                product.code,
                int(count),
                round(float(average), 1) if count else None,
                [_view(r, product) for r in latest],
            )

    async def held(self, *, limit: int = 100) -> list[ProductReviewView]:
        """Reviews waiting for staff, oldest first."""
        if not 1 <= limit <= MAX_QUEUE:
            raise InvalidInput("page out of range", code="invalid_page")
        async with self._units.orm() as uow:
            rows = (
                await uow.session.execute(
                    select(ProductReview, Product)
                    .join(Product, Product.id == ProductReview.product_id)
                    .where(ProductReview.status == ReviewStatus.HELD.value)
                    .order_by(ProductReview.id)
                    .limit(limit)
                )
            ).all()
            return [_view(review, product) for review, product in rows]

    async def decide(
        self, review_id: int, *, approve: bool, actor: str, reason: str | None = None
    ) -> ProductReviewView:
        """Publish a held review, or reject it (a reason is required); a decided one is not decided again."""
        reason = clean_text(reason, "reason", max_length=1000, required=not approve) or None
        async with self._units.orm() as uow:
            review = await uow.session.scalar(
                select(ProductReview).where(ProductReview.id == review_id).with_for_update()
            )
            if review is None:
                raise NotFound("no such review", code="product_review_not_found")
            if review.status != ReviewStatus.HELD.value:
                raise IllegalTransition("this review was already decided", code="product_review_decided")
            target = ReviewStatus.PUBLISHED if approve else ReviewStatus.REJECTED
            review.status = target.value
            review.decided_by, review.decided_at, review.decision_reason = actor, uow.now(), reason
            uow.record_status(
                "product_review", review.id, ReviewStatus.HELD.value, target.value, actor, reason
            )
            product = await uow.session.scalar(select(Product).where(Product.id == review.product_id))
            assert product is not None
            await uow.flush()
            view = _view(review, product)
            await uow.commit()
            return view
