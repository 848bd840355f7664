"""Domain events: facts the rest of the system reacts to (notifications, analytics, fulfilment).

Services hand events to the unit of work, which writes them to the outbox table in the SAME
transaction as the change that raised them: an event exists if and only if its change was committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """Base class; ``name`` is the stable type written to the outbox."""

    name: ClassVar[str] = "DomainEvent"

    def payload(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict (events hold plain values and lists of them; a shallow copy
        is enough, and costs a fifth of ``dataclasses.asdict``'s deep walk on the checkout path)."""
        return {
            f.name: list(value) if isinstance(value := getattr(self, f.name), list) else value
            for f in fields(self)
        }

    @property
    def ordering_key(self) -> str | None:
        """Whose notifications must arrive in the order the events happened (a shopper's "paid"
        before "shipped"); relays deliver different keys concurrently. None: no order needed."""
        customer_id = getattr(self, "customer_id", None)
        return f"customer:{customer_id}" if customer_id is not None else None


@dataclass(frozen=True, slots=True)
class OrderPlaced(DomainEvent):
    name: ClassVar[str] = "OrderPlaced"
    order_number: str
    customer_id: int
    total: int
    currency: str
    merchant_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class OrderStatusChanged(DomainEvent):
    name: ClassVar[str] = "OrderStatusChanged"
    order_number: str
    customer_id: int
    from_status: str
    to_status: str
    actor: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class OrderCancelled(DomainEvent):
    name: ClassVar[str] = "OrderCancelled"
    order_number: str
    customer_id: int
    reason: str
    refund_due: int


@dataclass(frozen=True, slots=True)
class PaymentCaptured(DomainEvent):
    name: ClassVar[str] = "PaymentCaptured"
    payment_id: str
    order_number: str
    customer_id: int
    amount: int
    currency: str
    provider: str


@dataclass(frozen=True, slots=True)
class RefundRequested(DomainEvent):
    name: ClassVar[str] = "RefundRequested"
    refund_id: str
    order_number: str
    amount: int
    currency: str


@dataclass(frozen=True, slots=True)
class RefundSucceeded(DomainEvent):
    name: ClassVar[str] = "RefundSucceeded"
    refund_id: str
    order_number: str
    customer_id: int
    amount: int
    currency: str


@dataclass(frozen=True, slots=True)
class OrderShipped(DomainEvent):
    name: ClassVar[str] = "OrderShipped"
    order_number: str
    customer_id: int
    carrier: str
    tracking_number: str


@dataclass(frozen=True, slots=True)
class ShipmentUpdated(DomainEvent):
    name: ClassVar[str] = "ShipmentUpdated"
    order_number: str
    customer_id: int
    tracking_number: str
    status: str
    location: str | None


@dataclass(frozen=True, slots=True)
class ShipmentDelayed(DomainEvent):
    name: ClassVar[str] = "ShipmentDelayed"
    order_number: str
    customer_id: int
    tracking_number: str
    hours_without_event: int


@dataclass(frozen=True, slots=True)
class AfterSalesOpened(DomainEvent):
    name: ClassVar[str] = "AfterSalesOpened"
    case_number: str
    order_number: str
    customer_id: int
    kind: str
    first_response_due_at: str


@dataclass(frozen=True, slots=True)
class AfterSalesStatusChanged(DomainEvent):
    name: ClassVar[str] = "AfterSalesStatusChanged"
    case_number: str
    customer_id: int
    from_status: str
    to_status: str


@dataclass(frozen=True, slots=True)
class ProductStatusChanged(DomainEvent):
    name: ClassVar[str] = "ProductStatusChanged"
    product_code: str
    merchant_id: int
    from_status: str
    to_status: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class HandoffRequested(DomainEvent):
    name: ClassVar[str] = "HandoffRequested"
    ticket_number: str
    conversation_key: str
    reason: str


@dataclass(frozen=True, slots=True)
class CustomerErased(DomainEvent):
    name: ClassVar[str] = "CustomerErased"
    customer_id: int
