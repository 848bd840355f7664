"""The vocabulary of listing moderation for callers: what a merchant submits, what a reviewer sees,
what a CSV import reports, and the policy that sets the limits.

Why apart from the services: the back office and the notifications read these views (re-exported by
``commerce_core.api``) without importing persistence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from commerce_core.catalog.types import ProductView


class ReviewKind(StrEnum):
    """Why a listing is in the review queue."""

    SUBMISSION = "submission"  # a new (or rejected and fixed) listing: not on sale until approved
    REVISION = "revision"  # a new version of a live listing: the old one stays on sale meanwhile
    REPORT = "report"  # a shopper reported it
    PRICE = "price"  # its price moved beyond the allowed range (already in effect; staff look)


class ReviewState(StrEnum):
    OPEN = "open"
    APPROVED = "approved"
    REJECTED = "rejected"


#: why a shopper reports a listing (the report button's choices)
REPORT_REASONS = ("false_claims", "counterfeit", "prohibited", "wrong_info", "other")


@dataclass(frozen=True, slots=True)
class ListingPolicy:
    """Limits of listing moderation (settings)."""

    #: a price change of more than this percentage either way is flagged to staff
    price_change_flag_percent: float = 50.0
    #: distinct shoppers' open reports that take a live listing off sale until reviewed
    report_threshold: int = 1
    #: live listings compared with for near-duplicates (most recent first)
    duplicate_window: int = 2000


@dataclass(frozen=True, slots=True)
class VariantInput:
    """One variant a merchant enters: SKU code, options (color, size), price in minor units, stock."""

    sku: str
    options: dict[str, str]
    price: int
    stock: int


@dataclass(frozen=True, slots=True)
class ListingContent:
    """What a reviewer must approve: texts, attributes and images (prices and stock apply at once)."""

    name: dict[str, str]
    description: dict[str, str]
    attributes: dict[str, Any] = field(default_factory=dict)
    images: list[str] = field(default_factory=list)
    brand: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": dict(self.name),
            "description": dict(self.description),
            "attributes": dict(self.attributes),
            "images": list(self.images),
            "brand": self.brand,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ListingContent:
        return cls(
            name=dict(data.get("name") or {}),
            description=dict(data.get("description") or {}),
            attributes=dict(data.get("attributes") or {}),
            images=list(data.get("images") or []),
            brand=data.get("brand"),
        )


@dataclass(frozen=True, slots=True)
class ListingInput:
    """A new listing from the console or a CSV row."""

    code: str
    category_code: str
    content: ListingContent
    variants: list[VariantInput]
    currency: str = "CNY"


@dataclass(frozen=True, slots=True)
class FindingView:
    code: str
    field: str
    detail: str


@dataclass(frozen=True, slots=True)
class ReviewItemView:
    """One review-queue item with the listing it is about and the automated checks' findings."""

    id: int
    kind: str
    state: str
    product_code: str
    merchant_id: int
    merchant_code: str
    product_status: str
    findings: tuple[FindingView, ...]
    content: ListingContent | None  # the proposed version (revisions; submissions: the listing's own)
    note: str | None
    created_at: datetime
    decided_by: str | None = None
    decision_reason: str | None = None
    decided_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ListingDetail:
    """A listing as its own merchant sees it: the product, its pending version, its latest decision."""

    product: ProductView
    pending: ReviewItemView | None
    latest: ReviewItemView | None
    stock: dict[str, int]


@dataclass(frozen=True, slots=True)
class RowError:
    """A CSV row that was not imported: its 1-based row number (header is row 1), the field, why."""

    row: int
    field: str
    code: str


@dataclass(frozen=True, slots=True)
class ImportReport:
    submitted: tuple[str, ...]
    errors: tuple[RowError, ...]
