"""The commerce core's front door: the only module (with the per-aggregate ``types``) that code
outside ``commerce_core`` imports.

Why: ``bot/`` and ``dialogs/`` used to import ORM models, services and ``db`` internals directly, so
any change inside the core rippled out to the edges. Everything an edge may use is named here: the
:class:`Commerce` facade and its configuration, the views and commands it takes and returns, the
enums, the error tree, and the maintenance commands (migrations, demo seeding, status diagrams).
An import-linter contract in ``pyproject.toml`` keeps it that way.
"""

from __future__ import annotations

from commerce_core.after_sales.types import (
    REPAIR_STAGES,
    AfterSalesPolicy,
    CaseItemRequest,
    CaseKind,
    CaseStatus,
    CaseUpdate,
    CaseView,
    RepairStage,
)
from commerce_core.analytics.service import AnalyticsService, EventBuffer
from commerce_core.analytics.types import (
    EVENT_KINDS,
    BehaviourEventInput,
    DashboardFigures,
    DayFigures,
)
from commerce_core.app import Commerce, CommerceConfig
from commerce_core.cart.types import CartLineView, CartProblem, CartView, ProblemKind
from commerce_core.catalog.checks import Finding as CheckFinding
from commerce_core.catalog.checks import advertising_terms
from commerce_core.catalog.listings_types import (
    REPORT_REASONS,
    FindingView,
    ImportReport,
    ListingContent,
    ListingDetail,
    ListingInput,
    ListingPolicy,
    ReviewItemView,
    ReviewKind,
    ReviewState,
    RowError,
    VariantInput,
)
from commerce_core.catalog.types import (
    COLOURS,
    CatalogueEntry,
    CategoryEntry,
    ListingStatus,
    ProductDraft,
    ProductSummary,
    ProductView,
    SearchPage,
    SearchQuery,
    SkuListing,
    SkuView,
    VariantDraft,
)
from commerce_core.clock import Clock, FakeClock, SystemClock
from commerce_core.customers.types import AddressInput, AddressView, CustomerReach, CustomerView
from commerce_core.customers.verification import (
    CodeGuard,
    PhoneVerifier,
    SandboxSms,
    SmsLimits,
    SmsRateLimiter,
)
from commerce_core.db.engine import create_engine
from commerce_core.db.fast.statements import connection_lost as is_connection_lost
from commerce_core.db.migrate import upgrade as migrate_database
from commerce_core.demo.loader import SeedReport, seed_demo
from commerce_core.diagrams import STATUS_MACHINES, status_document
from commerce_core.errors import (
    DomainError,
    IllegalTransition,
    InvalidInput,
    NotAllowed,
    NotFound,
    OutOfStock,
    PaymentRejected,
    PolicyViolation,
)
from commerce_core.events import (
    EVENT_TYPES,
    AccountLinked,
    AfterSalesDeskUpdate,
    AfterSalesOpened,
    AfterSalesOverdue,
    AfterSalesStatusChanged,
    AgentReplied,
    CustomerErased,
    DomainEvent,
    HandoffEnded,
    HandoffRequested,
    ListingReviewed,
    MalformedEvent,
    MerchantApplicationReviewed,
    OrderCancelled,
    OrderPlaced,
    OrderShipped,
    OrderStatusChanged,
    PaymentCaptured,
    ProductStatusChanged,
    RefundRequested,
    RefundSucceeded,
    ShipmentDelayed,
    ShipmentUpdated,
)
from commerce_core.events import decode as decode_event
from commerce_core.files.local import LocalFileStore
from commerce_core.files.types import ALLOWED_CONTENT_TYPES, FileRef, FileStore
from commerce_core.inventory.types import ReservationStatus
from commerce_core.merchants.types import MerchantStatus, MerchantView
from commerce_core.money import CURRENCY_EXPONENTS, Money
from commerce_core.operators.credentials import OperatorPolicy
from commerce_core.operators.permissions import PERMISSIONS, allowed
from commerce_core.operators.service import OperatorService
from commerce_core.operators.types import (
    MERCHANT_ROLES,
    STAFF_ROLES,
    SYSTEM_ACTOR,
    AccountLocked,
    Action,
    Actor,
    AuditEntryView,
    AuditFilter,
    LoginRefused,
    MerchantOrderLineView,
    MerchantOrderView,
    MerchantProductView,
    OperatorContact,
    OperatorRole,
    OperatorView,
    SecondFactorRequired,
    WeakPassword,
)
from commerce_core.orders.types import (
    CancelResult,
    LineRequest,
    OrderLineView,
    OrderPolicy,
    OrderStatus,
    OrderView,
    StatusChangeView,
)
from commerce_core.outbox.relay import (
    OutboxEnvelope,
    OutboxRelay,
    RelaySettings,
    RoundReport,
    customer_key,
    relay_once,
)
from commerce_core.outbox.store import ParkedMessage, parked_messages, pending_count, requeue
from commerce_core.outbox.subscribers import OutboxSubscribers
from commerce_core.payments.provider import (
    Notification,
    NotificationKind,
    PaymentIntentRequest,
    PaymentProvider,
    ProviderPayment,
    ProviderRefund,
    parse_amount,
)
from commerce_core.payments.types import (
    NotificationResult,
    PayableProblem,
    PayableProblemKind,
    PaymentRequestView,
    PaymentStatus,
    RefundStatus,
)
from commerce_core.shipments.types import ShipmentStatus, ShipmentView, TrackingEventView
from commerce_core.support.types import (
    HandoffMessage,
    MessageAuthor,
    SupportSettings,
    TicketKind,
    TicketStatus,
    TicketView,
)
from commerce_core.validation import pick_language

__all__ = [
    "ALLOWED_CONTENT_TYPES",
    "COLOURS",
    "CURRENCY_EXPONENTS",
    "MERCHANT_ROLES",
    "PERMISSIONS",
    "REPAIR_STAGES",
    "STAFF_ROLES",
    "STATUS_MACHINES",
    "SYSTEM_ACTOR",
    "AccountLocked",
    "Action",
    "Actor",
    "AddressInput",
    "AddressView",
    "AfterSalesPolicy",
    "AuditEntryView",
    "AuditFilter",
    "CancelResult",
    "CartLineView",
    "CartProblem",
    "CartView",
    "CaseItemRequest",
    "CaseKind",
    "CaseStatus",
    "CaseUpdate",
    "CaseView",
    "CatalogueEntry",
    "CategoryEntry",
    "Clock",
    "CodeGuard",
    "Commerce",
    "CommerceConfig",
    "CustomerReach",
    "CustomerView",
    "DomainError",
    "FakeClock",
    "FileRef",
    "FileStore",
    "IllegalTransition",
    "InvalidInput",
    "LineRequest",
    "ListingStatus",
    "LocalFileStore",
    "LoginRefused",
    "MerchantOrderLineView",
    "MerchantOrderView",
    "MerchantProductView",
    "MerchantStatus",
    "MerchantView",
    "Money",
    "NotAllowed",
    "NotFound",
    "Notification",
    "NotificationKind",
    "NotificationResult",
    "OperatorContact",
    "OperatorPolicy",
    "OperatorRole",
    "OperatorService",
    "OperatorView",
    "OrderLineView",
    "OrderPolicy",
    "OrderStatus",
    "OrderView",
    "OutOfStock",
    "OutboxEnvelope",
    "PayableProblem",
    "PayableProblemKind",
    "PaymentIntentRequest",
    "PaymentProvider",
    "PaymentRejected",
    "PaymentRequestView",
    "PaymentStatus",
    "PhoneVerifier",
    "PolicyViolation",
    "ProblemKind",
    "ProductDraft",
    "ProductSummary",
    "ProductView",
    "ProviderPayment",
    "ProviderRefund",
    "RefundStatus",
    "RepairStage",
    "ReservationStatus",
    "SandboxSms",
    "SearchPage",
    "SearchQuery",
    "SecondFactorRequired",
    "SeedReport",
    "ShipmentStatus",
    "ShipmentView",
    "SkuListing",
    "SkuView",
    "SmsLimits",
    "SmsRateLimiter",
    "StatusChangeView",
    "SystemClock",
    "TicketStatus",
    "TicketView",
    "TrackingEventView",
    "VariantDraft",
    "WeakPassword",
    "allowed",
    "create_engine",
    "migrate_database",
    "parse_amount",
    "pick_language",
    "relay_once",
    "seed_demo",
    "status_document",
]

# -- outbox (owner: notifications) --
__all__ += [
    "EVENT_TYPES",
    "AccountLinked",
    "AfterSalesDeskUpdate",
    "AfterSalesOpened",
    "AfterSalesOverdue",
    "AfterSalesStatusChanged",
    "AgentReplied",
    "CustomerErased",
    "DomainEvent",
    "HandoffEnded",
    "HandoffMessage",
    "HandoffRequested",
    "MalformedEvent",
    "MessageAuthor",
    "OrderCancelled",
    "OrderPlaced",
    "OrderShipped",
    "OrderStatusChanged",
    "OutboxRelay",
    "OutboxSubscribers",
    "ParkedMessage",
    "PaymentCaptured",
    "ProductStatusChanged",
    "RefundRequested",
    "RefundSucceeded",
    "RelaySettings",
    "RoundReport",
    "ShipmentDelayed",
    "ShipmentUpdated",
    "SupportSettings",
    "TicketKind",
    "customer_key",
    "decode_event",
    "parked_messages",
    "pending_count",
    "requeue",
]

# -- reliability (owner: turns) --
__all__ += ["is_connection_lost"]

# -- listings (owner: listings) --
__all__ += [
    "REPORT_REASONS",
    "CheckFinding",
    "FindingView",
    "ImportReport",
    "ListingContent",
    "ListingDetail",
    "ListingInput",
    "ListingPolicy",
    "ListingReviewed",
    "ReviewItemView",
    "ReviewKind",
    "ReviewState",
    "RowError",
    "VariantInput",
    "advertising_terms",
]
# -- staff group, photos, feedback to resolution (owner: staffgroup) --
from commerce_core.events import ShopperWroteToStaff  # noqa: E402
from commerce_core.support.types import AgentFigures, FeedbackCategory, StaffTopicView  # noqa: E402

__all__ += ["AgentFigures", "FeedbackCategory", "ShopperWroteToStaff", "StaffTopicView"]
# -- merchant onboarding and freezing (owner: onboard) --
__all__ += ["MerchantApplicationReviewed"]
__all__ += [  # behaviour events and the dashboard's figures (commerce_core.analytics)
    "EVENT_KINDS",
    "AnalyticsService",
    "BehaviourEventInput",
    "DashboardFigures",
    "DayFigures",
    "EventBuffer",
]
# -- product reviews (owner: reviews; R5.3-1) --
from commerce_core.reviews.types import (  # noqa: E402
    COMMENT_LIMIT as REVIEW_COMMENT_LIMIT,
)
from commerce_core.reviews.types import (  # noqa: E402
    RATING_MAX,
    RATING_MIN,
    ProductReviewView,
    ReviewableItem,
    ReviewStatus,
    ReviewSummary,
)

__all__ += [
    "RATING_MAX",
    "RATING_MIN",
    "REVIEW_COMMENT_LIMIT",
    "ProductReviewView",
    "ReviewStatus",
    "ReviewSummary",
    "ReviewableItem",
]
# -- waybill tracking services (owner: carrier; R4.4-2/3) --
from commerce_core.files.local import sniff_content_type  # noqa: E402
from commerce_core.shipments.carrier import CarrierEvent, WaybillCarrier  # noqa: E402

__all__ += ["CarrierEvent", "WaybillCarrier", "sniff_content_type"]
# -- merchant order tools: part cancellation, filters, settlement (owner: morders) --
from commerce_core.events import OrderPartCancelled  # noqa: E402
from commerce_core.merchant_orders.types import (  # noqa: E402
    CANCEL_REASON_LIMIT,
    OrderFilter,
    PartCancelResult,
    SettlementOrder,
    SettlementRefund,
    SettlementStatement,
)

__all__ += [
    "CANCEL_REASON_LIMIT",
    "OrderFilter",
    "OrderPartCancelled",
    "PartCancelResult",
    "SettlementOrder",
    "SettlementRefund",
    "SettlementStatement",
]
from commerce_core.events import ProductQuestionAnswered, ProductQuestionAsked  # noqa: E402
from commerce_core.questions.types import (  # noqa: E402
    ANSWER_LIMIT,
    QUESTION_LIMIT,
    QuestionStatus,
    QuestionView,
)

__all__ += [
    "ANSWER_LIMIT",
    "QUESTION_LIMIT",
    "ProductQuestionAnswered",
    "ProductQuestionAsked",
    "QuestionStatus",
    "QuestionView",
]
# -- anomaly alerts and fake-order signals (owner: anomalies; R3.4-2, R5.1-3, R4.1-6) --
from commerce_core.alerts.service import AlertService, split_channels  # noqa: E402
from commerce_core.alerts.types import (  # noqa: E402
    AlertFilter,
    AlertRule,
    AlertState,
    AlertThresholds,
    AlertView,
)
from commerce_core.events import AlertRaised, PaymentFailed  # noqa: E402

__all__ += [
    "AlertFilter",
    "AlertRaised",
    "AlertRule",
    "AlertService",
    "AlertState",
    "AlertThresholds",
    "AlertView",
    "PaymentFailed",
    "split_channels",
]
# -- waybill tracking stops (Kuaidi100 "abort": subscribed once more, then raised; R4.4-2) --
from commerce_core.events import WaybillTrackingStopped  # noqa: E402
from commerce_core.shipments.stops import StopOutcome  # noqa: E402

__all__ += ["StopOutcome", "WaybillTrackingStopped"]
