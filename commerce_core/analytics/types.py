"""What callers outside ``commerce_core`` hand to and get from the analytics service."""

from __future__ import annotations

import re
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


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)*")
_DIGITS = re.compile(r"\d")
#: at most this much of a misunderstood message is kept (what it was about, not a whole letter)
MESSAGE_KEPT = 120


def mask_personal(message: str) -> str:
    """A shopper's message as the dashboard may keep and show it: e-mail addresses become
    ``[email]`` and every digit ``#`` (phone numbers, order and id numbers, house numbers), cut to
    :data:`MESSAGE_KEPT` characters. Why digits at all: a phone number can be written in many ways
    (spaces, dashes, full-width digits); no digit, no number to recover."""
    return _DIGITS.sub("#", _EMAIL.sub("[email]", message)).strip()[:MESSAGE_KEPT]


@dataclass(frozen=True, slots=True)
class HotItem:
    """A product or a category with what shoppers did to it in the range."""

    code: str
    name: dict[str, str]
    views: int
    cart_adds: int
    orders: int


@dataclass(frozen=True, slots=True)
class HandoffFigures:
    """Live handoffs asked for in the range; times are medians in seconds (None: none yet)."""

    volume: int
    answered: int
    resolved: int
    first_response_s: float | None
    resolution_s: float | None
    ratings: int
    average_rating: float | None


@dataclass(frozen=True, slots=True)
class SlaFigures:
    """After-sales cases opened in the range against the 24-hour first-response clock (R5.4-1)."""

    opened: int
    within: int
    over: int
    waiting: int
    first_action_s: float | None


@dataclass(frozen=True, slots=True)
class ForecastDay:
    day: date
    expected: float
    low: float
    high: float


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
    hot_products: list[HotItem] = field(default_factory=list)
    hot_categories: list[HotItem] = field(default_factory=list)
    #: (masked message, times) of the turns the bot did not understand, most frequent first
    misunderstood: list[tuple[str, int]] = field(default_factory=list)
    handoffs: HandoffFigures | None = None
    after_sales: SlaFigures | None = None
    forecast: list[ForecastDay] = field(default_factory=list)

    @property
    def fallback_rate(self) -> float:
        total = self.turns_understood
        return self.nlu_fallbacks / total if total else 0.0
