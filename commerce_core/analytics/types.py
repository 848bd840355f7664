"""What callers outside ``commerce_core`` hand to and get from the analytics service."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

#: the kinds of behaviour event, in funnel order first
EVENT_KINDS = (
    "search",
    "product_view",
    "cart_add",
    "checkout_started",
    "order_placed",
    "paid",
    "handoff",
    "nlu_fallback",
)


@dataclass(frozen=True, slots=True)
class BehaviourEventInput:
    """One thing a shopper did. ``subject`` is already a pseudonym (a blind index), never the
    platform's user id."""

    kind: str
    subject: str
    channel: str
    language: str
    at: datetime
    merchant_id: int | None = None
    product: str | None = None
    query: str | None = None
    filters: dict[str, Any] | None = None
    results: int | None = None
    amount: int | None = None


@dataclass(frozen=True, slots=True)
class DayFigures:
    day: date
    orders: int
    sales: int


@dataclass(frozen=True, slots=True)
class DashboardFigures:
    """Aggregates only: no shopper appears in them (counts, sums, and search words)."""

    start: date
    end: date
    funnel: dict[str, int]
    per_day: list[DayFigures]
    zero_result_searches: list[tuple[str, int]]
    turns_understood: int
    nlu_fallbacks: int
    currency: str = "CNY"
    merchant_id: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def fallback_rate(self) -> float:
        total = self.turns_understood
        return self.nlu_fallbacks / total if total else 0.0
