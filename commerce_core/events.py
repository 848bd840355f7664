"""Domain events: facts the rest of the system reacts to (notifications, analytics, fulfilment).

Services hand events to the unit of work, which writes them to the outbox table in the SAME
transaction as the change that raised them: an event exists if and only if its change was committed.
Subscribers get them back as these same classes through :func:`decode`, the one place an outbox
payload becomes a typed event (see the end of this module).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, ClassVar

from commerce_core.errors import InvalidInput


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
        return customer_key(customer_id) if customer_id is not None else None


def customer_key(customer_id: int) -> str:
    """The ordering key of a shopper's messages (:meth:`DomainEvent.ordering_key`): also how a relay
    is asked for one shopper's notifications (``OutboxRelay.drain_recipients``)."""
    return f"customer:{customer_id}"


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
class OrderPartCancelled(DomainEvent):
    """A merchant cancelled its part of a paid order it could not fill (R4.4): the shopper is told
    why, in their language, and that ``refund_amount`` is on its way (``whole_order``: nothing of the
    order is left)."""

    name: ClassVar[str] = "OrderPartCancelled"
    order_number: str
    customer_id: int
    merchant_code: str
    reason: str
    refund_amount: int
    currency: str
    whole_order: bool = False


@dataclass(frozen=True, slots=True)
class ProductQuestionAsked(DomainEvent):
    """A shopper sent a product question to the seller (R4.1-4): the merchant's users with a bound
    chat are told the product and the question. Nothing about the shopper travels with it, and it has
    no ordering key: it is the merchant's news, not a step in a shopper's story."""

    name: ClassVar[str] = "ProductQuestionAsked"
    question_id: str
    merchant_id: int
    product_code: str
    question: str


@dataclass(frozen=True, slots=True)
class ProductQuestionAnswered(DomainEvent):
    """The seller answered a shopper's product question (R4.1-4): the shopper is told, in their
    language, on their channel."""

    name: ClassVar[str] = "ProductQuestionAnswered"
    question_id: str
    customer_id: int
    product_code: str
    question: str
    answer: str


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
class PaymentFailed(DomainEvent):
    """The provider reported a payment attempt failed (declined, wrong password, ...): watched for
    bursts per shopper and platform-wide (R3.4-2, ``commerce_core.alerts``)."""

    name: ClassVar[str] = "PaymentFailed"
    payment_id: str
    order_number: str
    customer_id: int
    provider: str


@dataclass(frozen=True, slots=True)
class AlertRaised(DomainEvent):
    """An anomaly rule raised an alert (stored in ``alerts``): staff are told through the outbox."""

    name: ClassVar[str] = "AlertRaised"
    alert_id: str
    rule: str
    subject: str


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
class WaybillTrackingStopped(DomainEvent):
    """The waybill service stopped tracking a waybill again after we subscribed it once more (R4.4-2):
    the merchant who shipped it and staff are told, to check the express company and the number.
    No customer id: it is not a step of the shopper's story (their delay notice is separate)."""

    name: ClassVar[str] = "WaybillTrackingStopped"
    order_number: str
    tracking_number: str
    carrier: str
    company: str
    reason: str
    merchant_id: int | None = None


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
class ListingReviewed(DomainEvent):
    """A reviewer decided on a listing review item (a new listing, a new version, a report): the
    merchant is told. ``decision`` is ``approved`` or ``rejected``; ``kind`` a ReviewKind value."""

    name: ClassVar[str] = "ListingReviewed"
    product_code: str
    merchant_id: int
    kind: str
    decision: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class HandoffRequested(DomainEvent):
    name: ClassVar[str] = "HandoffRequested"
    ticket_number: str
    conversation_key: str
    reason: str


@dataclass(frozen=True, slots=True)
class AgentReplied(DomainEvent):
    """A support agent wrote to the shopper from the console; the shopper's channel gets ``text``."""

    name: ClassVar[str] = "AgentReplied"
    ticket_number: str
    customer_id: int
    text: str


@dataclass(frozen=True, slots=True)
class HandoffEnded(DomainEvent):
    """The person let go of the conversation (``resolved``) or nobody came (``timed_out``): the
    shopper is told the bot is back, and after a resolution asked for a rating."""

    name: ClassVar[str] = "HandoffEnded"
    ticket_number: str
    customer_id: int
    outcome: str


@dataclass(frozen=True, slots=True)
class ShopperWroteToStaff(DomainEvent):
    """The shopper wrote while a person has (or is about to have) the conversation: mirrored into the
    Telegram staff group's topic; ``file_key`` names a photo they sent (the file store's key)."""

    name: ClassVar[str] = "ShopperWroteToStaff"
    ticket_number: str
    conversation_key: str
    customer_id: int
    text: str
    file_key: str | None = None


@dataclass(frozen=True, slots=True)
class CustomerErased(DomainEvent):
    name: ClassVar[str] = "CustomerErased"
    customer_id: int


@dataclass(frozen=True, slots=True)
class AccountLinked(DomainEvent):
    """Channel accounts joined ``customer_id`` by proving its phone (a sign-in from a new device or
    another channel); ``joined`` names them as ``channel:external id`` so the announcement goes to the
    account's *other* channels, where the owner would notice a sign-in that was not theirs."""

    name: ClassVar[str] = "AccountLinked"
    customer_id: int
    joined: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class AfterSalesDeskUpdate(DomainEvent):
    """Staff or the merchant did something to a case the shopper must hear of (``update`` is a
    :class:`~commerce_core.after_sales.types.CaseUpdate`; ``detail`` the reason, stage or address)."""

    name: ClassVar[str] = "AfterSalesDeskUpdate"
    case_number: str
    customer_id: int
    update: str
    from_status: str
    to_status: str
    detail: str = ""
    amount: int = 0
    currency: str = ""
    #: the case's kind, and where the item goes back to (empty: no address yet, or nothing to send)
    kind: str = ""
    returns_address: str = ""


@dataclass(frozen=True, slots=True)
class AfterSalesOverdue(DomainEvent):
    """A case still has no first answer past its deadline: ``level`` "alert" (the staff queue) or
    "escalation" (the admins)."""

    name: ClassVar[str] = "AfterSalesOverdue"
    case_number: str
    order_number: str
    level: str
    overdue_minutes: int


@dataclass(frozen=True, slots=True)
class MerchantApplicationReviewed(DomainEvent):
    """A reviewer decided a merchant application (R4.2-2): the applicant is told in their language on
    the channel they applied from (a chat applicant is ``customer_id``; a back-office applicant reads
    the decision on their application page)."""

    name: ClassVar[str] = "MerchantApplicationReviewed"
    application_id: str
    status: str
    language: str
    customer_id: int | None = None
    reasons: str | None = None
    suggestions: str | None = None


#: every event the outbox may hold, by its stored name (a table, not a scan of subclasses: adding an
#: event is one line here, and a test checks none is missing)
EVENT_TYPES: Mapping[str, type[DomainEvent]] = {
    cls.name: cls
    for cls in (
        AccountLinked,
        AgentReplied,
        HandoffEnded,
        ShopperWroteToStaff,
        OrderPlaced,
        OrderStatusChanged,
        OrderCancelled,
        OrderPartCancelled,
        ProductQuestionAsked,
        ProductQuestionAnswered,
        PaymentCaptured,
        RefundRequested,
        RefundSucceeded,
        OrderShipped,
        ShipmentUpdated,
        ShipmentDelayed,
        WaybillTrackingStopped,
        AfterSalesOpened,
        AfterSalesStatusChanged,
        AfterSalesDeskUpdate,
        AfterSalesOverdue,
        ProductStatusChanged,
        HandoffRequested,
        CustomerErased,
        ListingReviewed,
        MerchantApplicationReviewed,
        PaymentFailed,  # anomaly alerts (commerce_core.alerts)
        AlertRaised,
    )
}


class MalformedEvent(InvalidInput):
    """An outbox row that cannot become its event (unknown type, a required field missing or of the
    wrong type). Retrying cannot help, so the relay parks such a row with this error at once."""

    code = "malformed_event"


_Check = Callable[[object], bool]


def _check_for(hint: Any) -> _Check:
    """A predicate for the value types events hold: str, int, bool, lists of them, optional ones."""
    if hint is type(None):
        return lambda value: value is None
    if hint is int:  # JSON has no separate bool, but True is not an order id
        return lambda value: isinstance(value, int) and not isinstance(value, bool)
    if hint in (str, bool, float):
        return lambda value: isinstance(value, hint)
    origin = typing.get_origin(hint)
    if origin is list:
        (item,) = typing.get_args(hint)
        item_ok = _check_for(item)
        return lambda value: isinstance(value, list) and all(item_ok(v) for v in value)
    if origin in (typing.Union, types.UnionType):
        options = [_check_for(arg) for arg in typing.get_args(hint)]
        return lambda value: any(ok(value) for ok in options)
    raise TypeError(f"events hold plain values; {hint!r} is not one")


def _field_checks(cls: type[DomainEvent]) -> tuple[tuple[str, bool, _Check], ...]:
    hints = typing.get_type_hints(cls)
    return tuple(
        (f.name, f.default is MISSING and f.default_factory is MISSING, _check_for(hints[f.name]))
        for f in fields(cls)
    )


#: (field name, required, type check) per event type, built once from the dataclasses
_FIELDS = {name: _field_checks(cls) for name, cls in EVENT_TYPES.items()}


def decode(event_type: str, payload: object) -> DomainEvent:
    """The typed event an outbox row holds.

    Tolerant of the past: fields a row has but the class no longer declares are ignored, and fields
    added later with a default take it. Strict where guessing would mislead a subscriber: an unknown
    type, a missing required field or a value of the wrong type raises :class:`MalformedEvent`.
    """
    cls = EVENT_TYPES.get(event_type)
    if cls is None:
        raise MalformedEvent(f"unknown event type {event_type!r}", event_type=event_type)
    if not isinstance(payload, Mapping):
        raise MalformedEvent(f"{event_type} payload is not an object", event_type=event_type)
    values: dict[str, Any] = {}
    for name, required, type_ok in _FIELDS[event_type]:
        if name not in payload:
            if required:
                raise MalformedEvent(f"{event_type} lacks {name!r}", event_type=event_type, field=name)
            continue
        value = payload[name]
        if not type_ok(value):
            raise MalformedEvent(
                f"{event_type}.{name} has a {type(value).__name__}: {value!r:.60}",
                event_type=event_type,
                field=name,
            )
        values[name] = list(value) if isinstance(value, list) else value
    return cls(**values)
