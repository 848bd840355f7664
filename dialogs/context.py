"""What a flow step gets: the message, its interpretation, the state, and ways to answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from commerce_core.api import Commerce, CustomerView, Money, OrderView, PhoneVerifier
from dialogs.messages import Button, InboundMessage, Reply, TextReply
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

    def provider_for(self, channel: str) -> str:
        return self.channel_providers.get(channel, self.payment_provider)


@dataclass
class Turn:
    commerce: Commerce
    texts: Texts
    settings: DialogSettings
    message: InboundMessage
    nlu: Interpretation
    state: ConversationState
    customer_id: int
    display_name: str | None = None  # the channel's name for the user, a default recipient
    verifier: PhoneVerifier | None = None
    replies: list[Reply] = field(default_factory=list)
    forget_conversation: bool = False  # set by erasure: the pipeline drops the stored state
    #: orders already read in this turn, by number: listing them, showing one and its tracking read
    #: each once (a flow that changes an order shows what the change returns, not this)
    orders_read: dict[str, OrderView] = field(default_factory=dict)

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
