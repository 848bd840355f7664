"""Button payloads of product reviews (R5.3-1): "Rate the items" on a delivered order, and the stars.

Why apart from :mod:`dialogs.payloads`: that module must stay under 500 lines. Same rules (one frozen
dataclass per action, field kinds from :mod:`dialogs.payload_kinds`); :data:`dialogs.payloads.ACTIONS`
lists them too. Nothing in them grants anything: whether this shopper received the product is decided
by the core from their orders, so a forged ``rvs:CODE:5`` reviews nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar

from dialogs.payload_kinds import Action, Code, PublicId, Whole


@dataclass(frozen=True, slots=True)
class ReviewOrder(Action):
    """Rate the items of this delivered order (from the delivery notification or the order card)."""

    prefix: ClassVar[str] = "rvw"
    order_number: PublicId


@dataclass(frozen=True, slots=True)
class RateProduct(Action):
    """One to five stars for one product; the comment is asked for next."""

    prefix: ClassVar[str] = "rvs"
    code: Code
    rating: Annotated[int, Whole(1, 5)]
