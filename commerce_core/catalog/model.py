"""Categories, products and their SKUs (variants), and the listing status machine."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from commerce_core.catalog.types import ListingStatus
from commerce_core.db.base import Base, BigId, PortableJSON, UTCDateTime
from commerce_core.status import StatusMachine

LISTING_STATUS = StatusMachine[ListingStatus](
    "product",
    {
        ListingStatus.DRAFT: frozenset({ListingStatus.PENDING_REVIEW}),
        ListingStatus.PENDING_REVIEW: frozenset({ListingStatus.LIVE, ListingStatus.REJECTED}),
        ListingStatus.REJECTED: frozenset({ListingStatus.PENDING_REVIEW, ListingStatus.DRAFT}),
        # back to review: a shopper's report (enough of them) or a reviewer's second look
        ListingStatus.LIVE: frozenset({ListingStatus.DELISTED, ListingStatus.PENDING_REVIEW}),
        ListingStatus.DELISTED: frozenset({ListingStatus.PENDING_REVIEW}),
    },
)


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), nullable=True)
    name: Mapped[dict[str, str]] = mapped_column(PortableJSON)
    synonyms: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    brand: Mapped[str | None] = mapped_column(String(100), nullable=True)
    name: Mapped[dict[str, str]] = mapped_column(PortableJSON)
    description: Mapped[dict[str, str]] = mapped_column(PortableJSON)
    attributes: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)
    synonyms: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    images: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default=ListingStatus.DRAFT.value, index=True)
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    currency: Mapped[str] = mapped_column(String(3))
    min_price: Mapped[int] = mapped_column(Integer)
    max_price: Mapped[int] = mapped_column(Integer)
    sales_count: Mapped[int] = mapped_column(Integer, default=0)
    search_document: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint("min_price > 0 AND max_price >= min_price", name="price_range"),)


class Sku(Base):
    """One sellable variant of a product (colour, size, ...), with its own price."""

    __tablename__ = "skus"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    options: Mapped[dict[str, str]] = mapped_column(PortableJSON, default=dict)
    price: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))

    __table_args__ = (CheckConstraint("price > 0", name="price_positive"),)


class ProductFacet(Base):
    """(name, value) pairs of a product for filtering: variant options and attributes, canonical."""

    __tablename__ = "product_facets"

    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128), primary_key=True)

    __table_args__ = (Index("ix_product_facets_value", "name", "value"),)


class ListingReview(Base):
    """One item in the listing review queue: a new listing, a new version of a live one, a shopper's
    report, or a price change beyond the allowed range; with the automated checks' findings.

    Why a row per item and not a flag on the product: a live listing keeps selling while its next
    version (``content``) waits here, and every decision (who, when, why) stays on record.
    """

    __tablename__ = "listing_reviews"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="open", index=True)
    content: Mapped[dict[str, Any] | None] = mapped_column(PortableJSON, nullable=True)
    findings: Mapped[list[dict[str, str]]] = mapped_column(PortableJSON, default=list)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    reporter: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
