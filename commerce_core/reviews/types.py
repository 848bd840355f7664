"""The vocabulary of product reviews for callers: a review as shown, a product's summary, the states.

Why apart from the service: the dialogs and the back office read these views (re-exported by
``commerce_core.api``) without importing persistence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

RATING_MIN = 1
RATING_MAX = 5
COMMENT_LIMIT = 500


class ReviewStatus(StrEnum):
    """Published reviews count and show; held ones wait for staff (the checks found something)."""

    PUBLISHED = "published"
    HELD = "held"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class ProductReviewView:
    id: int
    product_code: str
    product_name: dict[str, str]
    rating: int
    comment: str | None
    status: ReviewStatus
    findings: list[dict[str, str]]
    created_at: datetime
    decided_by: str | None = None
    decision_reason: str | None = None


@dataclass(frozen=True, slots=True)
class ReviewSummary:
    """What the product card shows: the average of published ratings, how many, the latest comments."""

    product_code: str
    count: int
    average: float | None
    recent: list[ProductReviewView] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ReviewableItem:
    """A product of a delivered order the shopper may rate (``reviewed``: they already did)."""

    product_code: str
    name: dict[str, str]
    reviewed: bool
