"""The catalogue's vocabulary for callers: listing statuses, colour codes, product and SKU views, search
queries and pages, and the drafts a merchant submits.

Why a module of its own: enums, views and commands are what the rest of the core and the edges
share; keeping them apart from the ORM models and services lets anyone import them without
pulling in persistence (``commerce_core.api`` re-exports them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from commerce_core.money import Money
from commerce_core.validation import pick_language

#: canonical colour codes of SKU options (the NLU maps 红/紅/red... onto these; texts label them)
COLOURS = frozenset(
    {
        "red",
        "orange",
        "yellow",
        "green",
        "blue",
        "navy",
        "purple",
        "pink",
        "white",
        "black",
        "grey",
        "brown",
        "beige",
        "gold",
        "silver",
        "multicolor",
    }
)


class ListingStatus(StrEnum):
    DRAFT = "draft"
    PENDING_REVIEW = "pending_review"
    LIVE = "live"
    DELISTED = "delisted"
    REJECTED = "rejected"


SortOrder = Literal["relevance", "sales", "price_asc", "price_desc", "newest"]


@dataclass(frozen=True, slots=True)
class SkuView:
    id: int
    code: str
    options: dict[str, str]
    price: Money
    available: int


@dataclass(frozen=True, slots=True)
class SkuListing:
    """One SKU found by its code, with the product it belongs to (its listing status and name).

    Why: a SKU code says nothing reliable about its product; callers that hold only a code (an order
    line, a button) ask the catalogue instead of guessing from the code's shape.
    """

    sku: SkuView
    product_code: str
    product_name: dict[str, str]
    product_status: str

    @property
    def on_sale(self) -> bool:
        return self.product_status == ListingStatus.LIVE.value

    def title(self, lang: str) -> str:
        return pick_language(self.product_name, lang)


@dataclass(frozen=True, slots=True)
class ProductView:
    id: int
    code: str
    merchant_id: int
    category_code: str
    brand: str | None
    name: dict[str, str]
    description: dict[str, str]
    attributes: dict[str, Any]
    images: list[str]
    status: str
    status_reason: str | None
    min_price: Money
    max_price: Money
    sales: int
    skus: tuple[SkuView, ...]

    def title(self, lang: str) -> str:
        return pick_language(self.name, lang)

    @property
    def available(self) -> int:
        return sum(s.available for s in self.skus)

    def option_values(self, option: str) -> list[str]:
        """Distinct values of one option (e.g. all colours), in SKU order."""
        seen: dict[str, None] = {}
        for sku in self.skus:
            if option in sku.options:
                seen.setdefault(sku.options[option], None)
        return list(seen)

    def find_sku(self, **options: str) -> SkuView | None:
        """The SKU whose options include all of ``options`` (e.g. color="red", size="M")."""
        for sku in self.skus:
            if all(sku.options.get(k) == v for k, v in options.items()):
                return sku
        return None


@dataclass(frozen=True, slots=True)
class ProductSummary:
    id: int
    code: str
    name: dict[str, str]
    brand: str | None
    category_code: str
    min_price: Money
    max_price: Money
    sales: int
    available: int
    image: str | None
    score: float = 0.0

    def title(self, lang: str) -> str:
        return pick_language(self.name, lang)


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """What a shopper asked for. Prices are minor units; ``facets`` are canonical (color=red)."""

    text: str = ""
    category: str | None = None
    price_min: int | None = None
    price_max: int | None = None
    facets: dict[str, str] = field(default_factory=dict)
    brand: str | None = None
    sort: SortOrder = "relevance"
    page: int = 1
    page_size: int = 10
    in_stock_only: bool = False
    exclude_codes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SearchPage:
    items: tuple[ProductSummary, ...]
    total: int
    page: int
    page_size: int
    relaxed: bool = False  # True when no product matched every word and we matched any word instead

    @property
    def has_more(self) -> bool:
        return self.page * self.page_size < self.total


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """Words the language understanding needs to recognise one product (plain data)."""

    code: str
    names: dict[str, str]
    synonyms: list[str]
    brand: str | None
    category_code: str


@dataclass(frozen=True, slots=True)
class CategoryEntry:
    code: str
    parent_code: str | None
    names: dict[str, str]
    synonyms: list[str]


@dataclass(frozen=True, slots=True)
class VariantDraft:
    sku: str
    options: dict[str, str]
    price: int
    stock: int = 0


@dataclass(frozen=True, slots=True)
class ProductDraft:
    code: str
    merchant_code: str
    category_code: str
    name: dict[str, str]
    description: dict[str, str]
    variants: list[VariantDraft]
    currency: str = "CNY"
    brand: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    synonyms: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
