"""What a flow step gets: the message, its interpretation, the state, and ways to answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from commerce_core.api import Commerce, CustomerView, FileRef, Money, OrderView, PhoneVerifier
from dialogs.messages import Attachment, Button, InboundMessage, Reply, TextReply
from dialogs.payloads import Action
from dialogs.state import ConversationState, Frame
from dialogs.texts import Texts
from nlu import Interpretation


@dataclass(frozen=True, slots=True)
class DialogSettings:
    payment_provider: str = "sandbox"
    #: channel -> provider used there (e.g. {"telegram": "telegram", "wechat": "wechatpay"})
    channel_providers: dict[str, str] = field(default_factory=dict)
    sandbox_payments: bool = True  # show a "pay (sandbox)" button that completes the payment
    page_size: int = 5
    max_misunderstandings: int = 2
    #: channel -> the providers its shoppers pick between (the web chat with both Alipay and WeChat
    #: Pay NATIVE configured); a channel with fewer than two pays with :meth:`provider_for`'s provider
    channel_choices: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def provider_for(self, channel: str) -> str:
        return self.channel_providers.get(channel, self.payment_provider)

    def choices_for(self, channel: str) -> tuple[str, ...]:
        """The providers offered as a choice on ``channel``: empty unless there are at least two."""
        choices = self.channel_choices.get(channel, ())
        return choices if len(choices) > 1 else ()


#: creates (or finds) the customer behind the turn's channel account and returns its id; the
#: pipeline's first-contact identification, run only when a flow needs a customer
CustomerIdentifier = Callable[[InboundMessage, ConversationState], Awaitable[int]]


#: downloads a file the user sent (by its platform handle) into the upload store for an owner: the
#: stored file, None when the platform could not be reached, or InvalidInput for a wrong file (bot.media)
AttachmentKeeper = Callable[[InboundMessage, Attachment, str], Awaitable[FileRef | None]]


class CustomerNotIdentified(RuntimeError):
    """A flow read ``turn.customer_id`` without :meth:`Turn.ensure_customer` (a programming error: the
    engine ensures the customer before every flow that is not one of its anonymous ones)."""


@dataclass
class Turn:
    commerce: Commerce
    texts: Texts
    settings: DialogSettings
    message: InboundMessage
    nlu: Interpretation
    state: ConversationState
    #: None while the shopper has only chatted (web): no customer row until one is needed
    known_customer_id: int | None
    display_name: str | None = None  # the channel's name for the user, a default recipient
    verifier: PhoneVerifier | None = None
    replies: list[Reply] = field(default_factory=list)
    forget_conversation: bool = False  # set by erasure: the pipeline drops the stored state
    #: orders already read in this turn, by number: listing them, showing one and its tracking read
    #: each once (a flow that changes an order shows what the change returns, not this)
    orders_read: dict[str, OrderView] = field(default_factory=dict)
    identify: CustomerIdentifier | None = None
    #: the channel's way to keep a file the user sent (None: it cannot, e.g. the console)
    keep_attachment: AttachmentKeeper | None = None
    #: what the shopper did in this turn (searched, viewed, added ...), as (kind, fields): the
    #: pipeline turns these into behaviour events (R6.2-1) after the turn; flows only note facts
    notes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def note(self, kind: str, **fields: Any) -> None:
        self.notes.append((kind, fields))

    @property
    def customer_id(self) -> int:
        if self.known_customer_id is None:
            raise CustomerNotIdentified("ensure_customer() before reading customer_id")
        return self.known_customer_id

    @customer_id.setter
    def customer_id(self, value: int) -> None:
        """The turn now speaks for ``value`` (a sign-in joined this account to another): so does the
        conversation from now on."""
        self.known_customer_id = self.state.customer_id = value

    @property
    def has_customer(self) -> bool:
        return self.known_customer_id is not None

    async def ensure_customer(self) -> int:
        """The customer id, creating the customer first if this shopper has only chatted so far.

        Until then what the shopper said lives on the conversation state under the channel account
        (on the web, the session's pseudonym); the customer is created for that account with the
        state's language, so nothing has to be moved."""
        known = self.known_customer_id
        if known is None:
            if self.identify is None:
                raise CustomerNotIdentified("this turn was built without a way to identify the customer")
            known = self.customer_id = await self.identify(self.message, self.state)
        return known

    @property
    def lang(self) -> str:
        return self.state.lang or "zh-Hans"

    async def customer(self) -> CustomerView:
        """The customer record, read only by the flows that need it (most turns don't)."""
        return await self.commerce.customers.get(self.customer_id)

    def t(self, key: str, **params: Any) -> str:
        return self.texts.get(self.lang, key, **params)

    def say(self, key: str, *buttons: Button, **params: Any) -> None:
        self.replies.append(TextReply(self.t(key, **params), tuple(buttons)))

    def send(self, reply: Reply) -> None:
        self.replies.append(reply)

    def button(self, key: str, action: Action, **params: Any) -> Button:
        """A button labelled with the text ``key`` that asks for ``action`` when pressed."""
        return Button.of(self.t(key, **params), action)

    def money(self, value: Money) -> str:
        return value.format()

    def entity(self, kind: str) -> Any:
        found = self.nlu.entity(kind)
        return found.value if found else None

    def entities(self, kind: str) -> list[Any]:
        return [e.value for e in self.nlu.entities if e.type == kind]

    # -- flow bookkeeping -------------------------------------------------------------------------
    def begin(self, flow: str, step: str, **slots: Any) -> Frame:
        self.state.active = Frame(flow=flow, step=step, slots=dict(slots))
        return self.state.active

    def goto(self, step: str, **slots: Any) -> None:
        assert self.state.active is not None
        self.state.active.step = step
        self.state.active.slots.update(slots)

    def finish(self) -> None:
        self.state.active = None

    @property
    def slots(self) -> dict[str, Any]:
        return self.state.active.slots if self.state.active else {}
