"""Typed button payloads: one frozen dataclass per thing a button asks for, encoded and decoded here only.

A button travels through chat platforms as a short string (Telegram allows 64 bytes of callback data),
comes back when pressed, and may be pressed again weeks later from the chat history, or forged by a web
client. Flows therefore never write or parse these strings: they build an action (``ShowProduct("D1")``)
and :func:`encode` turns it into the wire form; the engine gets the action back from :func:`decode`,
which checks every field (strict ASCII charsets, ASCII-digit integers in a range, no control characters,
at most :data:`MAX_WIRE_BYTES`) so nothing odd ever reaches a handler or the database.

The wire form is ``prefix`` for actions without fields and ``prefix:field[:field...]`` otherwise: the
encodings the bot has always sent, so buttons already in chat histories, the ones notifications push
(``order:``, ``track:``, ``as:``) and the ones the WeChat menu carries keep working.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, fields
from typing import Annotated, ClassVar, get_args, get_origin, get_type_hints

# re-exported: flows, channels and tests name the field kinds and the base class here
from dialogs.payload_kinds import (
    MAX_WIRE_BYTES as MAX_WIRE_BYTES,
)
from dialogs.payload_kinds import (
    QUANTITY as QUANTITY,
)
from dialogs.payload_kinds import (
    REASONS as REASONS,
)
from dialogs.payload_kinds import (
    SEPARATOR as SEPARATOR,
)
from dialogs.payload_kinds import (
    Action as Action,
)
from dialogs.payload_kinds import (
    Code as Code,
)
from dialogs.payload_kinds import (
    FieldKind as FieldKind,
)
from dialogs.payload_kinds import (
    FlowName as FlowName,
)
from dialogs.payload_kinds import (
    InvalidPayload as InvalidPayload,
)
from dialogs.payload_kinds import (
    LanguageTag as LanguageTag,
)
from dialogs.payload_kinds import (
    LineNumber as LineNumber,
)
from dialogs.payload_kinds import (
    OneOf as OneOf,
)
from dialogs.payload_kinds import (
    PublicId as PublicId,
)
from dialogs.payload_kinds import (
    Quantity as Quantity,
)
from dialogs.payload_kinds import (
    Reason as Reason,
)
from dialogs.payload_kinds import (
    RowId as RowId,
)
from dialogs.payload_kinds import (
    Token as Token,
)
from dialogs.payload_kinds import (
    Whole as Whole,
)
from dialogs.payloads_partners import (
    REPORT_REASONS as REPORT_REASONS,
)

# re-exported: the buttons of the desk, merchants and listing reports
from dialogs.payloads_partners import (
    CaseAnswer as CaseAnswer,
)
from dialogs.payloads_partners import (
    CaseParcel as CaseParcel,
)
from dialogs.payloads_partners import (
    RateCase as RateCase,
)
from dialogs.payloads_partners import (
    ReportListing as ReportListing,
)
from dialogs.payloads_partners import (
    ReportListingReason as ReportListingReason,
)
from dialogs.payloads_partners import (
    ShipOrder as ShipOrder,
)
from dialogs.payloads_questions import AskSeller as AskSeller
from dialogs.payloads_reviews import RateProduct as RateProduct
from dialogs.payloads_reviews import ReviewOrder as ReviewOrder
from dialogs.payloads_webpay import PayWith as PayWith  # the web chat's payment choice


# -- answers to the step that is waiting --------------------------------------------------------------
# They name the flow that asked ("yes:checkout"), so an old "yes" from another question (delete my data,
# cancel that order) cannot answer the one waiting now. A bare "yes" (older buttons) answers any.
@dataclass(frozen=True, slots=True)
class Yes(Action):
    prefix: ClassVar[str] = "yes"
    flow: FlowName = None


@dataclass(frozen=True, slots=True)
class No(Action):
    prefix: ClassVar[str] = "no"
    flow: FlowName = None


@dataclass(frozen=True, slots=True)
class Skip(Action):
    prefix: ClassVar[str] = "skip"
    flow: FlowName = None


# -- menus --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MoreResults(Action):
    prefix: ClassVar[str] = "more"


@dataclass(frozen=True, slots=True)
class Popular(Action):
    prefix: ClassVar[str] = "popular"


@dataclass(frozen=True, slots=True)
class ViewCart(Action):
    prefix: ClassVar[str] = "cart"


@dataclass(frozen=True, slots=True)
class Checkout(Action):
    prefix: ClassVar[str] = "checkout"


@dataclass(frozen=True, slots=True)
class MyOrders(Action):
    prefix: ClassVar[str] = "orders"


@dataclass(frozen=True, slots=True)
class Human(Action):
    prefix: ClassVar[str] = "human"


@dataclass(frozen=True, slots=True)
class Help(Action):
    prefix: ClassVar[str] = "help"


@dataclass(frozen=True, slots=True)
class LeaveMessage(Action):
    """No person can take over now: the shopper leaves a message that becomes a ticket."""

    prefix: ClassVar[str] = "leavemsg"


@dataclass(frozen=True, slots=True)
class BindPhone(Action):
    prefix: ClassVar[str] = "phone"


@dataclass(frozen=True, slots=True)
class ExportData(Action):
    prefix: ClassVar[str] = "export"


@dataclass(frozen=True, slots=True)
class EraseData(Action):
    prefix: ClassVar[str] = "erase"


@dataclass(frozen=True, slots=True)
class Expired(Action):
    """A button the channel could no longer read back (e.g. a long Telegram payload whose key expired)."""

    prefix: ClassVar[str] = "expired"


@dataclass(frozen=True, slots=True)
class Language(Action):
    prefix: ClassVar[str] = "lang"
    tag: LanguageTag


# -- products and cart --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ShowProduct(Action):
    prefix: ClassVar[str] = "p"
    code: Code


@dataclass(frozen=True, slots=True)
class Similar(Action):
    prefix: ClassVar[str] = "similar"
    code: Code


@dataclass(frozen=True, slots=True)
class AddProduct(Action):
    """Add a product; the shopper picks the variant next if there are several."""

    prefix: ClassVar[str] = "add"
    code: Code


@dataclass(frozen=True, slots=True)
class AddSku(Action):
    prefix: ClassVar[str] = "sku"
    code: Code
    quantity: Quantity = 1


@dataclass(frozen=True, slots=True)
class Increase(Action):
    prefix: ClassVar[str] = "inc"
    sku: Code


@dataclass(frozen=True, slots=True)
class Decrease(Action):
    prefix: ClassVar[str] = "dec"
    sku: Code


@dataclass(frozen=True, slots=True)
class Remove(Action):
    prefix: ClassVar[str] = "rm"
    sku: Code


# -- checkout and orders ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class UseAddress(Action):
    prefix: ClassVar[str] = "addr"
    address_id: RowId


@dataclass(frozen=True, slots=True)
class NewAddress(Action):
    prefix: ClassVar[str] = "addr:new"  # a fieldless action is matched on its whole wire form first


@dataclass(frozen=True, slots=True)
class Pay(Action):
    prefix: ClassVar[str] = "pay"
    order_number: PublicId


@dataclass(frozen=True, slots=True)
class SandboxPay(Action):
    prefix: ClassVar[str] = "sbxpay"
    payment_id: PublicId


@dataclass(frozen=True, slots=True)
class ShowOrder(Action):
    prefix: ClassVar[str] = "order"
    order_number: PublicId


@dataclass(frozen=True, slots=True)
class Track(Action):
    prefix: ClassVar[str] = "track"
    order_number: PublicId


@dataclass(frozen=True, slots=True)
class ConfirmReceipt(Action):
    """The shopper received a delivered order (it becomes completed)."""

    prefix: ClassVar[str] = "recv"
    order_number: PublicId


@dataclass(frozen=True, slots=True)
class OrderHistory(Action):
    prefix: ClassVar[str] = "hist"
    order_number: PublicId


@dataclass(frozen=True, slots=True)
class CancelOrder(Action):
    prefix: ClassVar[str] = "cancel"
    order_number: PublicId


@dataclass(frozen=True, slots=True)
class ChangeAddress(Action):
    prefix: ClassVar[str] = "chaddr"
    order_number: PublicId


# -- after-sales --------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AfterSales(Action):
    """Start a return for this order (from an order card or a notification)."""

    prefix: ClassVar[str] = "as"
    order_number: PublicId


@dataclass(frozen=True, slots=True)
class AfterSalesOrder(Action):
    """The order picked inside a running after-sales conversation."""

    prefix: ClassVar[str] = "asorder"
    order_number: PublicId


@dataclass(frozen=True, slots=True)
class AfterSalesLine(Action):
    prefix: ClassVar[str] = "asline"
    line_no: LineNumber


@dataclass(frozen=True, slots=True)
class AfterSalesReason(Action):
    prefix: ClassVar[str] = "reason"
    code: Reason


ACTIONS: tuple[type[Action], ...] = (
    Yes,
    No,
    Skip,
    MoreResults,
    Popular,
    ViewCart,
    Checkout,
    MyOrders,
    Human,
    Help,
    LeaveMessage,
    BindPhone,
    ExportData,
    EraseData,
    Expired,
    Language,
    ShowProduct,
    Similar,
    AddProduct,
    AddSku,
    Increase,
    Decrease,
    Remove,
    UseAddress,
    NewAddress,
    Pay,
    SandboxPay,
    ShowOrder,
    Track,
    ConfirmReceipt,
    OrderHistory,
    CancelOrder,
    ChangeAddress,
    AfterSales,
    AfterSalesOrder,
    AfterSalesLine,
    AfterSalesReason,
    ShipOrder,
    CaseAnswer,
    CaseParcel,
    RateCase,
    ReportListing,
    ReportListingReason,
    PayWith,
    ReviewOrder,
    RateProduct,
    AskSeller,
)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of an action as it goes on the wire: its name, its kind, whether it may be left off."""

    name: str
    kind: FieldKind
    required: bool


@dataclass(frozen=True, slots=True)
class _Layout:
    action: type[Action]
    fields: tuple[FieldSpec, ...]
    required: int


def _layout(action: type[Action]) -> _Layout:
    """The fields of ``action`` in wire order, with the kind its ``Annotated`` type declares."""
    hints = get_type_hints(action, include_extras=True)
    declared: list[FieldSpec] = []
    for field in fields(action):  # type: ignore[arg-type]  # every action is a dataclass
        hint = hints[field.name]
        kinds = [k for k in get_args(hint)[1:] if isinstance(k, Token | Whole | OneOf)]
        if get_origin(hint) is not Annotated or len(kinds) != 1:
            raise TypeError(f"{action.__name__}.{field.name} needs exactly one field kind")
        required = field.default is MISSING and field.default_factory is MISSING
        declared.append(FieldSpec(field.name, kinds[0], required))
    needed = sum(f.required for f in declared)
    if any(f.required for f in declared[needed:]):
        raise TypeError(f"{action.__name__}: optional fields come last")
    return _Layout(action, tuple(declared), needed)


def _tables() -> tuple[dict[str, Action], dict[str, _Layout], dict[type[Action], _Layout]]:
    singletons: dict[str, Action] = {}
    by_prefix: dict[str, _Layout] = {}
    by_type: dict[type[Action], _Layout] = {}
    for action in ACTIONS:
        layout = _layout(action)
        by_type[action] = layout
        if action.prefix in singletons or action.prefix in by_prefix:
            raise TypeError(f"two actions use the prefix {action.prefix!r}")
        if layout.fields:
            if SEPARATOR in action.prefix:
                raise TypeError(f"{action.__name__}: a prefix with {SEPARATOR!r} cannot take fields")
            by_prefix[action.prefix] = layout
        else:
            singletons[action.prefix] = action()
    return singletons, by_prefix, by_type


_SINGLETONS, _BY_PREFIX, _BY_TYPE = _tables()


def fields_of(action: type[Action]) -> tuple[FieldSpec, ...]:
    """The wire fields of an action type, in order (tests build valid and invalid payloads from them)."""
    return _BY_TYPE[action].fields


def encode(action: Action) -> str:
    """The wire form of ``action``; raises ValueError for a value its field does not accept, so a flow
    can never send a button that would not decode."""
    layout = _BY_TYPE[type(action)]
    if not layout.fields:
        return action.prefix
    values = [getattr(action, field.name) for field in layout.fields]
    while values and values[-1] is None and not layout.fields[len(values) - 1].required:
        values.pop()  # an optional field left unset stays off the wire
    parts = [action.prefix]
    for field, value in zip(layout.fields, values, strict=False):
        raw = str(value)
        if field.kind.parse(raw) != value:
            raise ValueError(f"{type(action).__name__}.{field.name}={raw!r} cannot go on a button")
        parts.append(raw)
    wire = SEPARATOR.join(parts)
    if len(wire.encode()) > MAX_WIRE_BYTES:
        raise ValueError(f"{type(action).__name__} payload {wire!r} is over {MAX_WIRE_BYTES} bytes")
    return wire


def decode(wire: str) -> Action:
    """The action a payload string encodes; raises :class:`InvalidPayload` for anything else."""
    if len(wire) > MAX_WIRE_BYTES or len(wire.encode("utf-8", "replace")) > MAX_WIRE_BYTES:
        raise InvalidPayload("payload too long")
    singleton = _SINGLETONS.get(wire)
    if singleton is not None:
        return singleton
    prefix, separator, rest = wire.partition(SEPARATOR)
    layout = _BY_PREFIX.get(prefix)
    if layout is None:
        raise InvalidPayload(f"unknown payload {prefix[:16]!r}")
    parts = rest.split(SEPARATOR) if separator else []
    if not layout.required <= len(parts) <= len(layout.fields):
        raise InvalidPayload(f"{prefix}: wrong number of fields")
    values: dict[str, object] = {}
    for field, raw in zip(layout.fields, parts, strict=False):
        value = field.kind.parse(raw)
        if value is None:
            raise InvalidPayload(f"{prefix}: bad {field.name}")
        values[field.name] = value
    return layout.action(**values)
