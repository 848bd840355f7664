"""The domain error tree.

Every error a shopper, merchant or operator can cause carries a stable ``code`` and ``params`` so the
dialog layer can map it to a friendly text in the user's language in one place (no parsing of
messages). The tree::

    DomainError
    ├── InvalidInput            bad values: quantity 0, negative price, unknown currency, text too long
    ├── NotFound                unknown product, SKU, order, case ...
    ├── NotAllowed              the action is not allowed for this actor or in this state
    │   └── IllegalTransition   a status machine refused a transition
    ├── OutOfStock              not enough available stock for a SKU
    ├── PaymentRejected         a provider notification failed verification (signature, amount)
    └── PolicyViolation         an after-sales policy refused a request (window passed, ...)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class DomainError(Exception):
    """Base of all errors the domain raises on purpose."""

    code: str = "domain_error"

    def __init__(self, message: str, *, code: str | None = None, **params: Any) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.params: Mapping[str, Any] = params

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(code={self.code!r}, message={self.args[0]!r}, params={dict(self.params)!r})"


class InvalidInput(DomainError):
    code = "invalid_input"


class NotFound(DomainError):
    code = "not_found"


class NotAllowed(DomainError):
    code = "not_allowed"


class IllegalTransition(NotAllowed):
    code = "illegal_transition"


class OutOfStock(DomainError):
    code = "out_of_stock"


class PaymentRejected(DomainError):
    code = "payment_rejected"


class PolicyViolation(DomainError):
    code = "policy_violation"
