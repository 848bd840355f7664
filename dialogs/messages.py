"""What reaches the dialog engine from any channel, and the closed set of replies it sends back.

Channels (Telegram, WeChat, console, web chat) turn platform messages into :class:`InboundMessage`
and render :data:`Reply` values their own way; the dialog layer never knows which platform it talks to.
Every reply carries plain ``text`` too, so a channel that cannot draw cards still says something true.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from dialogs.payloads import Action

log = logging.getLogger(__name__)
AttachmentKind = Literal["image", "voice", "location", "contact", "file"]


@dataclass(frozen=True, slots=True)
class Attachment:
    kind: AttachmentKind
    url: str | None = None
    text: str | None = None  # voice: the platform's speech recognition
    latitude: float | None = None
    longitude: float | None = None
    label: str | None = None  # location: the place name or address the platform gives
    phone: str | None = None  # contact: the shared phone number
    name: str | None = None
    #: the platform's handle for downloading the file (WeChat's MediaId; Telegram's is in ``url``)
    media_id: str | None = None


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One thing a user did: typed text, pressed a button, or sent an attachment."""

    channel: str
    user_id: str
    chat_id: str
    text: str = ""
    payload: str | None = None  # the payload of a pressed button
    attachments: tuple[Attachment, ...] = ()
    dedup_key: str | None = None  # the platform's id for this delivery (update_id, MsgId, ...)
    display_name: str | None = None
    language_hint: str | None = None  # e.g. Telegram's language_code

    @property
    def conversation_key(self) -> str:
        return f"{self.channel}:{self.chat_id}"

    @property
    def effective_text(self) -> str:
        """Typed text, or the recognised words of a voice message."""
        if self.text.strip():
            return self.text
        for attachment in self.attachments:
            if attachment.kind == "voice" and attachment.text:
                return attachment.text
        return ""


@dataclass(frozen=True, slots=True)
class Button:
    """A button as channels draw it: ``payload`` is the wire form of a typed action (dialogs.payloads)."""

    label: str
    payload: str

    @classmethod
    def of(cls, label: str, action: Action) -> Button:
        return cls(label, action.encode())

    @classmethod
    def offer(cls, label: str, action: Action) -> tuple[Button, ...]:
        """The button, or none when catalogue data cannot go on one (the core allows codes longer than
        a 64-byte payload holds): the reply still goes out and the shopper can name the item instead."""
        try:
            return (cls(label, action.encode()),)
        except ValueError as error:
            log.warning("button left out: %s", error)
            return ()


@dataclass(frozen=True, slots=True)
class TextReply:
    text: str
    buttons: tuple[Button, ...] = ()
    kind: Literal["text"] = "text"


@dataclass(frozen=True, slots=True)
class ProductCard:
    code: str
    title: str
    price: str
    description: str
    image: str | None
    available: int
    options: tuple[str, ...] = ()  # "颜色：红色、黑色", "尺码：M、L"
    reason: str | None = None  # why it is recommended
    buttons: tuple[Button, ...] = ()
    kind: Literal["product_card"] = "product_card"

    @property
    def text(self) -> str:
        lines = [f"{self.title} {self.price}", *self.options, self.description]
        if self.reason:
            lines.append(self.reason)
        return "\n".join(line for line in lines if line)


@dataclass(frozen=True, slots=True)
class ProductListItem:
    position: int
    code: str
    title: str
    price: str
    image: str | None
    available: int
    reason: str | None = None  # why it is recommended (bought together, popular in its category, ...)


@dataclass(frozen=True, slots=True)
class ProductList:
    title: str
    items: tuple[ProductListItem, ...]
    page: int
    has_more: bool
    total: int
    buttons: tuple[Button, ...] = ()
    kind: Literal["product_list"] = "product_list"

    @property
    def text(self) -> str:
        lines = [self.title]
        for i in self.items:  # the reason (already in the shopper's language) on its own line, indented
            lines.append(f"{i.position}. {i.title} {i.price}")
            lines.extend([f"   {i.reason}"] if i.reason else [])
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class LineItem:
    title: str
    options: str
    quantity: int
    unit_price: str
    line_total: str
    sku: str


@dataclass(frozen=True, slots=True)
class CartSummary:
    title: str
    lines: tuple[LineItem, ...]
    subtotal: str
    notes: tuple[str, ...] = ()
    buttons: tuple[Button, ...] = ()
    kind: Literal["cart"] = "cart"

    @property
    def text(self) -> str:
        lines = [self.title] + [
            f"- {li.title} {li.options} ×{li.quantity} {li.line_total}" for li in self.lines
        ]
        return "\n".join([*lines, self.subtotal, *self.notes])


@dataclass(frozen=True, slots=True)
class OrderSummary:
    number: str
    title: str
    status: str
    lines: tuple[LineItem, ...]
    total: str
    address: str
    notes: tuple[str, ...] = ()
    buttons: tuple[Button, ...] = ()
    kind: Literal["order"] = "order"

    @property
    def text(self) -> str:
        lines = [self.title, self.status] + [
            f"- {li.title} {li.options} ×{li.quantity} {li.line_total}" for li in self.lines
        ]
        return "\n".join([*lines, self.total, self.address, *self.notes])


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    order_number: str
    payment_id: str
    provider: str
    amount: int
    currency: str
    amount_display: str
    pay_url: str | None
    text: str
    buttons: tuple[Button, ...] = ()
    kind: Literal["payment"] = "payment"


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    at: str
    text: str


@dataclass(frozen=True, slots=True)
class TrackingTimeline:
    order_number: str
    tracking_number: str
    title: str
    status: str
    eta: str | None
    events: tuple[TimelineEvent, ...]
    buttons: tuple[Button, ...] = ()
    kind: Literal["tracking"] = "tracking"

    @property
    def text(self) -> str:
        lines = [self.title, self.status] + ([self.eta] if self.eta else [])
        return "\n".join(lines + [f"{e.at} {e.text}" for e in self.events])


@dataclass(frozen=True, slots=True)
class FileReply:
    filename: str
    mime_type: str
    content: bytes
    text: str
    kind: Literal["file"] = "file"


@dataclass(frozen=True, slots=True)
class HandoffNotice:
    ticket_number: str
    queue_position: int
    text: str
    kind: Literal["handoff"] = "handoff"


Reply = (
    TextReply
    | ProductCard
    | ProductList
    | CartSummary
    | OrderSummary
    | PaymentRequest
    | TrackingTimeline
    | FileReply
    | HandoffNotice
)


@dataclass(frozen=True, slots=True)
class Notification:
    """Something the system pushes to a user outside a turn (payment confirmed, parcel moved)."""

    customer_id: int
    replies: tuple[Reply, ...]
    dedup_key: str
    extra: dict[str, str] = field(default_factory=dict)
