"""One alert in words, in the reader's language: the same sentence in the staff group and in the back
office (both catalogues hold the ``alerts.summary.<rule>`` keys). Only what the alert stored is shown:
counts, thresholds, order numbers, customer ids and masked contacts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from commerce_core.api import AlertView, InvalidInput, Money

Phrase = Callable[..., str]


def _money(amount: Any, currency: Any) -> str:
    try:
        return Money(int(amount), str(currency)).format()
    except (InvalidInput, TypeError, ValueError):
        return f"{amount} {currency}"


def summary(alert: AlertView, t: Phrase) -> str:
    """The rule's sentence filled from the alert's details (lists joined, money formatted)."""
    details = dict(alert.details)
    join = t("alerts.list_separator").join
    if "total" in details:
        currency = details.get("currency", "CNY")
        details["total"] = _money(details["total"], currency)
        details["amount_threshold"] = _money(details.get("amount_threshold", 0), currency)
    for name in ("new_channels", "old_channels"):
        if isinstance(details.get(name), list):
            details[name] = join(t(f"alerts.channel.{c}") for c in details[name])
    if isinstance(details.get("signals"), list):
        details["signals"] = join(t(f"alerts.signal.{s}") for s in details["signals"])
    for name in ("customers", "orders"):
        if isinstance(details.get(name), list):
            details[name] = join(str(v) for v in details[name])
    try:
        return t(f"alerts.summary.{alert.rule.value}", **details)
    except (KeyError, IndexError, ValueError):  # an alert stored by another version: its rule's name
        return t(f"alerts.rule.{alert.rule.value}")
