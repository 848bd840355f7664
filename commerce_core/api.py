"""The commerce core's front door: the only module (with the per-aggregate ``types``) that code
outside ``commerce_core`` imports.

Why: ``bot/`` and ``dialogs/`` used to import ORM models, services and ``db`` internals directly, so
any change inside the core rippled out to the edges. Everything an edge may use is named here: the
:class:`Commerce` facade and its configuration, the views and commands it takes and returns, the
enums, the error tree, and the maintenance commands (migrations, demo seeding, status diagrams).
An import-linter contract in ``pyproject.toml`` keeps it that way.
"""

from __future__ import annotations

from commerce_core.after_sales.types import CaseItemRequest, CaseKind
from commerce_core.app import Commerce, CommerceConfig
from commerce_core.cart.types import CartLineView, CartView, ProblemKind
from commerce_core.catalog.types import (
    ListingStatus,
    ProductSummary,
    ProductView,
    SearchPage,
    SearchQuery,
    SkuView,
)
from commerce_core.clock import Clock, FakeClock, SystemClock
from commerce_core.customers.types import AddressInput, AddressView, CustomerView
from commerce_core.customers.verification import PhoneVerifier, SandboxSms
from commerce_core.db.engine import create_engine
from commerce_core.db.migrate import upgrade as migrate_database
from commerce_core.demo.loader import SeedReport, seed_demo
from commerce_core.diagrams import STATUS_MACHINES, status_document
from commerce_core.errors import DomainError, InvalidInput, NotAllowed, NotFound, PaymentRejected
from commerce_core.money import CURRENCY_EXPONENTS, Money
from commerce_core.orders.types import OrderLineView, OrderPolicy, OrderStatus, OrderView
from commerce_core.outbox.relay import OutboxEnvelope, relay_once
from commerce_core.payments.provider import (
    Notification,
    NotificationKind,
    PaymentIntentRequest,
    PaymentProvider,
    ProviderPayment,
    ProviderRefund,
)
from commerce_core.payments.types import NotificationResult
from commerce_core.validation import pick_language

__all__ = [
    "CURRENCY_EXPONENTS",
    "STATUS_MACHINES",
    "AddressInput",
    "AddressView",
    "CartLineView",
    "CartView",
    "CaseItemRequest",
    "CaseKind",
    "Clock",
    "Commerce",
    "CommerceConfig",
    "CustomerView",
    "DomainError",
    "FakeClock",
    "InvalidInput",
    "ListingStatus",
    "Money",
    "NotAllowed",
    "NotFound",
    "Notification",
    "NotificationKind",
    "NotificationResult",
    "OrderLineView",
    "OrderPolicy",
    "OrderStatus",
    "OrderView",
    "OutboxEnvelope",
    "PaymentIntentRequest",
    "PaymentProvider",
    "PaymentRejected",
    "PhoneVerifier",
    "ProblemKind",
    "ProductSummary",
    "ProductView",
    "ProviderPayment",
    "ProviderRefund",
    "SandboxSms",
    "SearchPage",
    "SearchQuery",
    "SeedReport",
    "SkuView",
    "SystemClock",
    "create_engine",
    "migrate_database",
    "pick_language",
    "relay_once",
    "seed_demo",
    "status_document",
]
