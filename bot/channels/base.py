"""The seam every channel plugs into: a :class:`Channel` and the :class:`ChannelContext` it is built from.

A channel (console, web chat, Telegram, WeChat, ...) is one package with a factory
``create(context) -> Channel | None`` (``None``: not configured) and one line in
``bot.bootstrap.CHANNEL_FACTORIES``. Bootstrap builds every channel first, because the payment providers
a channel brings go into ``Commerce``; then it builds the runtime (pipeline, notifier) and binds it to
the context, and only then does traffic arrive. So a channel reads the runtime when it handles a
message, never while it is built, and it never changes the runtime: bootstrap collects what the
channel offers (routes, sender, jobs, providers) and hands it to the HTTP app, the notifier and the
workers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Protocol

import redis.asyncio as aioredis
from aiohttp import web
from pydantic import BaseModel

from bot.notifications import Sender
from commerce_core.api import Clock, PaymentProvider
from dialogs.texts import Texts

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from bot.settings import Settings

#: a background job: runs until the event is set (an update worker, long polling, reconciliation)
Job = Callable[[asyncio.Event], Awaitable[None]]
#: adds routes (and start-up/clean-up hooks) to the HTTP app
RouteInstaller = Callable[[web.Application], None]


class Channel(Protocol):
    """What bootstrap needs from a channel; everything else is the channel's own business."""

    @property
    def name(self) -> str:
        """The channel's name: in conversation keys, customer identities and the notifier's routing."""
        ...

    @property
    def settings(self) -> BaseModel | None:
        """Its section of the settings tree (``None`` for channels with nothing to configure)."""
        ...

    @property
    def sender(self) -> Sender | None:
        """Where pushed notifications for this channel's users go (``None``: it cannot push)."""
        ...

    @property
    def payment_providers(self) -> Sequence[PaymentProvider]:
        """Payment providers this channel brings (registered in ``Commerce`` by bootstrap)."""
        ...

    @property
    def payment_provider(self) -> str | None:
        """The provider this channel's shoppers pay with, if not the default (the sandbox)."""
        ...

    def install_routes(self, app: web.Application) -> None:
        """Add the channel's HTTP routes (webhooks, pages) to the app; may add nothing."""
        ...

    def jobs(self) -> Sequence[Job]:
        """Background work the serving process runs next to the HTTP app (update workers, polling)."""
        ...

    async def aclose(self) -> None:
        """Release clients and wait for work in flight; called once when the runtime closes."""
        ...


#: one line per channel in ``bot.bootstrap.CHANNEL_FACTORIES``
ChannelFactory = Callable[["ChannelContext"], Channel | None]


class ChannelContext:
    """What bootstrap gives a channel factory: the settings tree, the shared infrastructure, and (once
    built, for handling traffic) the runtime the channel serves."""

    def __init__(self, settings: Settings, redis: aioredis.Redis, clock: Clock, texts: Texts) -> None:
        self.settings = settings
        self.redis = redis
        self.clock = clock
        self.texts = texts
        self._runtime: Runtime | None = None

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            raise RuntimeError("a channel handled traffic before bootstrap finished building the runtime")
        return self._runtime

    def bind(self, runtime: Runtime) -> None:
        """Called by bootstrap once, after the runtime is built."""
        self._runtime = runtime
