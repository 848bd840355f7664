"""Which merchants' listings are on sale: the one SQL condition every shopper-facing read uses.

Why a condition in the query rather than a flag on every product: freezing a merchant (R4.2-3) must
take ALL its listings off sale at once and unfreezing must restore exactly what was live before, so
the listings keep their own status and every read (search, product cards, carts, payment checks,
the NLU's catalogue terms) joins against the merchant's status. The change is one committed row, so
every process sees it on its next query.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, case, select

from commerce_core.merchants.model import Merchant
from commerce_core.merchants.types import MerchantStatus

#: the listing status reported for a live product of a frozen merchant (never stored)
MERCHANT_FROZEN = "merchant_frozen"


def frozen_merchant_ids() -> Any:
    """``SELECT id FROM merchants WHERE status = 'frozen'`` (for ``NOT IN``)."""
    return select(Merchant.id).where(Merchant.status == MerchantStatus.FROZEN.value)


def merchant_on_sale(merchant_id: Any) -> ColumnElement[bool]:
    """True where the merchant behind ``merchant_id`` may sell (not frozen)."""
    condition: ColumnElement[bool] = merchant_id.not_in(frozen_merchant_ids())
    return condition


def effective_listing_status(status: Any, merchant_id: Any) -> ColumnElement[str]:
    """The listing's status as shoppers meet it: ``merchant_frozen`` while its merchant is frozen."""
    return case((merchant_id.in_(frozen_merchant_ids()), MERCHANT_FROZEN), else_=status)
