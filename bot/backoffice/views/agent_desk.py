"""What the agent console needs from the core, written down as Protocols, and the shopper's file the
conversation view shows (masked profile, orders, cart, after-sales cases).

Why Protocols again (as ``bot.backoffice.ports``): the console depends on a dozen calls, not on the
whole :class:`Commerce`; mypy checks the real support service against exactly these, and tests can
build the console with the real core and nothing else.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web

from commerce_core.after_sales.types import CaseView
from commerce_core.api import (
    AgentFigures,
    Commerce,
    FeedbackCategory,
    FileStore,
    HandoffMessage,
    LocalFileStore,
    NotFound,
    SupportSettings,
    TicketKind,
    TicketView,
)
from commerce_core.cart.types import CartView
from commerce_core.orders.types import OrderView
from commerce_core.support.types import HANDOFF_FILES_FOLDER


class SupportDesk(Protocol):
    settings: SupportSettings

    async def queue(self, kind: TicketKind | None = None) -> list[TicketView]: ...
    async def ticket(self, number: str) -> TicketView: ...
    async def history(self, number: str, *, include_notes: bool = True) -> list[HandoffMessage]: ...
    async def version(self) -> tuple[int, int, int]: ...
    async def expire_overdue(self) -> list[str]: ...
    async def claim(self, number: str, agent: str) -> TicketView: ...
    async def assign_to(self, number: str, agent: str, *, actor: str) -> TicketView: ...
    async def release(self, number: str, *, actor: str) -> TicketView: ...
    async def reply(self, number: str, agent: str, text: str) -> HandoffMessage: ...
    async def note(self, number: str, agent: str, text: str) -> HandoffMessage: ...
    async def resolve(self, number: str, *, actor: str) -> TicketView: ...
    async def resolve_feedback(
        self, number: str, *, actor: str, category: FeedbackCategory, resolution: str
    ) -> TicketView: ...
    async def agent_figures(self, *, weeks: int = 8) -> list[AgentFigures]: ...
    async def audit(
        self, actor: str, action: str, target_type: str, target_id: str, details: dict[str, Any] | None = None
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class ShopperFile:
    """The shopper as an agent may see them: masked name and phone, never the full values."""

    public_id: str
    language: str
    masked_name: str | None
    masked_phone: str | None
    orders: list[OrderView]
    cart: CartView
    cases: list[CaseView]


class ShopperRecords(Protocol):
    async def file_of(self, customer_id: int) -> ShopperFile | None: ...


class CommerceShopperRecords:
    """The shopper's file from the core's own services (read-only)."""

    def __init__(self, commerce: Commerce) -> None:
        self._commerce = commerce

    async def file_of(self, customer_id: int) -> ShopperFile | None:
        commerce = self._commerce
        try:
            customer = await commerce.customers.get(customer_id)
        except NotFound:
            return None
        return ShopperFile(
            customer.public_id,
            customer.language,
            customer.masked_name,
            customer.masked_phone,
            await commerce.orders.for_customer(customer_id, limit=10),
            await commerce.cart.view(customer_id),
            await commerce.after_sales.for_customer(customer_id),
        )


class VersionWatch:
    """One look at the console's fingerprint for all the live streams of a process.

    Why: every open console tab polls; twenty agents each asking the database four times a second
    is eighty queries a second for one answer. The first stream to ask after ``max_age`` queries,
    the others (waiting on the lock meanwhile) reuse the answer. The unclaimed-handoff sweep is
    shared the same way."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._value: tuple[int, int, int] = (0, 0, 0)
        self._at = -math.inf
        self._swept = -math.inf

    async def current(self, support: SupportDesk, max_age: float) -> tuple[int, int, int]:
        async with self._lock:
            if time.monotonic() - self._at >= max_age:
                self._value = await support.version()
                self._at = time.monotonic()
            return self._value

    async def sweep(self, support: SupportDesk, every: float) -> None:
        """Time out handoffs nobody claimed, at most once per ``every`` seconds per process."""
        if time.monotonic() - self._swept < every:
            return
        self._swept = time.monotonic()
        await support.expire_overdue()


@dataclass(frozen=True, slots=True)
class WeChatReach:
    """WeChat's customer-service window (hours since the shopper's last message) and whether a
    template message is configured for replies outside it (``SHOPBOT_WECHAT_*``)."""

    window_hours: int = 48
    template: bool = False


@dataclass(frozen=True, slots=True)
class AgentDesk:
    support: SupportDesk
    shoppers: ShopperRecords
    #: how often the live stream looks for changes, and how long one stream lives before the browser
    #: reconnects (keeps a forgotten tab from holding a connection for ever)
    poll_seconds: float = 0.25
    stream_seconds: float = 300.0
    wechat: WeChatReach = WeChatReach()
    watch: VersionWatch = field(default_factory=VersionWatch)
    #: where photos shoppers sent during a handoff are kept (None: photos are not kept)
    files: FileStore | None = None


DESK: web.AppKey[AgentDesk] = web.AppKey("backoffice.agent_desk", AgentDesk)


def desk(request: web.Request) -> AgentDesk:
    if DESK not in request.app:  # a back office built without the console (tests of other pages)
        raise web.HTTPNotFound()
    return request.app[DESK]


def handoff_files(data_dir: Path) -> FileStore:
    """The file store of photos shoppers sent during a handoff (the channels put them there)."""
    return LocalFileStore(data_dir / HANDOFF_FILES_FOLDER)


def last_heard(ticket: TicketView, history: list[HandoffMessage]) -> datetime:
    """When the shopper last wrote: their latest line of the handoff, or the request that opened it."""
    said = [m.at for m in history if m.author == "shopper"]
    return max([ticket.created_at, *said])


def wechat_window_closed(
    reach: WeChatReach, ticket: TicketView, history: list[HandoffMessage], now: datetime
) -> bool:
    """True for a WeChat conversation whose shopper last wrote longer ago than WeChat's window."""
    if ticket.channel != "wechat":
        return False
    return (now - last_heard(ticket, history)).total_seconds() >= reach.window_hours * 3600


def waited_minutes(ticket: TicketView, now: datetime) -> int:
    return max(0, int((now - ticket.created_at).total_seconds() // 60))
