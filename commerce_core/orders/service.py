"""Orders: placement from the cart (idempotent, stock reserved), reads, cancellation, expiry.

The service is one object for callers (``commerce.orders``), assembled from one module per
responsibility: :mod:`.placing` (hot), :mod:`.changes` (cancel, address, completion, expiry) and
:mod:`.queries` (reads, and the views the other two build).
"""

from __future__ import annotations

from commerce_core.orders.changes import OrderChanges, RefundRequester, RefundRunner
from commerce_core.orders.placing import OrderPlacing
from commerce_core.orders.types import OrderPolicy
from commerce_core.security import FieldCipher
from commerce_core.uow import Units

__all__ = ["OrderService", "RefundRequester", "RefundRunner"]


class OrderService(OrderPlacing, OrderChanges):
    def __init__(
        self,
        units: Units,
        cipher: FieldCipher,
        policy: OrderPolicy | None = None,
        *,
        request_refund: RefundRequester | None = None,
    ) -> None:
        """``request_refund`` queues the refund of a cancelled paid order (payments' job; wired by
        :class:`~commerce_core.app.Commerce`); ``refund_runner`` pays it back after commit."""
        super().__init__(units, cipher)
        self.policy = policy or OrderPolicy()
        self.refund_runner = None
        self._request_refund = request_refund
