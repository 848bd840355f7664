"""A short forecast of orders per day with its band (R6.4-1).

Method: simple exponential smoothing of the daily order counts (the last :data:`HISTORY_DAYS` days up
to the range's end, days without orders counted as 0) with smoothing factor :data:`ALPHA`. The level
after the last day is the expected count for each of the next :data:`HORIZON` days. The band is an
approximate 95 % prediction interval from the one-step-ahead residuals: ``level +- 1.96 * s *
sqrt(1 + (h - 1) * ALPHA**2)`` for ``h`` days ahead (the SES forecast variance), where ``s`` is the
residuals' root mean square; the low end is cut at 0 (no negative orders).

Why this and not more: a few weeks of a small shop's orders carry no reliable weekly pattern or trend,
and a method a merchant can check by hand is worth more than a fitted model nobody can explain. The
page states the method next to the figures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta

from commerce_core.analytics.types import ForecastDay

ALPHA = 0.3
HISTORY_DAYS = 28
HORIZON = 7
Z95 = 1.96


def forecast_orders(history: Sequence[int], last_day: date, horizon: int = HORIZON) -> list[ForecastDay]:
    """The next ``horizon`` days after ``last_day`` from ``history`` (daily counts, oldest first,
    ending on ``last_day``). No history: no forecast."""
    if not history:
        return []
    level = float(history[0])
    squared_errors: list[float] = []
    for observed in history[1:]:
        squared_errors.append((observed - level) ** 2)
        level += ALPHA * (observed - level)
    spread = math.sqrt(sum(squared_errors) / len(squared_errors)) if squared_errors else 0.0
    days = []
    for h in range(1, horizon + 1):
        half = Z95 * spread * math.sqrt(1 + (h - 1) * ALPHA**2)
        days.append(
            ForecastDay(
                last_day + timedelta(days=h),
                round(level, 2),
                round(max(0.0, level - half), 2),
                round(level + half, 2),
            )
        )
    return days
