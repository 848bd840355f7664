"""The cart's vocabulary: its view, lines and problems (problems are data, not exceptions).

Why a module of its own: enums, views and commands are what the rest of the core and the edges
share; keeping them apart from the ORM models and services lets anyone import them without
pulling in persistence (``commerce_core.api`` re-exports them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from commerce_core.money import Money
from commerce_core.validation import pick_language


class ProblemKind(StrEnum):
    OUT_OF_STOCK = "out_of_stock"
    INSUFFICIENT_STOCK = "insufficient_stock"
    PRICE_CHANGED = "price_changed"
    DELISTED = "delisted"


BLOCKING = frozenset({ProblemKind.OUT_OF_STOCK, ProblemKind.INSUFFICIENT_STOCK, ProblemKind.DELISTED})


@dataclass(frozen=True, slots=True)
class CartProblem:
    kind: ProblemKind
    sku_code: str
    available: int = 0
    old_price: Money | None = None
    new_price: Money | None = None


@dataclass(frozen=True, slots=True)
class CartLineView:
    sku_id: int
    sku_code: str
    product_code: str
    name: dict[str, str]
    options: dict[str, str]
    quantity: int
    unit_price: Money
    available: int
    image: str | None

    @property
    def line_total(self) -> Money:
        return self.unit_price.times(self.quantity)

    def title(self, lang: str) -> str:
        return pick_language(self.name, lang)


@dataclass(frozen=True, slots=True)
class CartView:
    lines: tuple[CartLineView, ...]
    problems: tuple[CartProblem, ...] = field(default=())

    @property
    def is_empty(self) -> bool:
        return not self.lines

    @property
    def currency(self) -> str | None:
        return self.lines[0].unit_price.currency if self.lines else None

    @property
    def subtotal(self) -> Money | None:
        if not self.lines:
            return None
        return Money(sum(line.line_total.amount for line in self.lines), self.lines[0].unit_price.currency)

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def can_checkout(self) -> bool:
        return bool(self.lines) and not any(p.kind in BLOCKING for p in self.problems)
