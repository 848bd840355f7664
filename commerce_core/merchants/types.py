"""Merchants' vocabulary: statuses and the merchant view.

Why a module of its own: enums, views and commands are what the rest of the core and the edges
share; keeping them apart from the ORM models and services lets anyone import them without
pulling in persistence (``commerce_core.api`` re-exports them).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MerchantStatus(StrEnum):
    APPLIED = "applied"
    UNDER_REVIEW = "under_review"
    ACTIVE = "active"
    REJECTED = "rejected"
    FROZEN = "frozen"


@dataclass(frozen=True, slots=True)
class MerchantView:
    id: int
    public_id: str
    code: str
    name: dict[str, str]
    status: str
    contact_email: str | None
