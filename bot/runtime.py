"""The running bot: what :mod:`bot.bootstrap` builds (the container of shared pieces and registries,
then the pipeline and the notifier) and the background jobs it runs."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

import redis.asyncio as aioredis

from bot.auto_ship import auto_ship
from bot.catalogue_sync import CatalogueSync
from bot.channels.base import Channel, ChannelContext, Job, RouteInstaller
from bot.channels.console import InboxChannel
from bot.nlu_terms import catalogue_terms
from bot.notifications import InboxSender, Notifier
from bot.notifications.merchants import flush_merchant_digests
from bot.pipeline import Pipeline
from bot.settings import Settings
from commerce_core.api import Commerce, OutboxRelay, SandboxSms
from nlu import Interpreter

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


@dataclass
class Container:
    """The shared pieces and the registries, built once by :func:`bot.bootstrap.bootstrap`."""

    settings: Settings
    commerce: Commerce
    redis: aioredis.Redis
    context: ChannelContext
    channels: dict[str, Channel]
    #: the HTTP app's route installers: every channel's, then extensions (the back office, ...)
    routes: list[RouteInstaller]

    async def aclose(self) -> None:
        for channel in self.channels.values():
            try:
                await channel.aclose()
            except Exception:  # one channel failing to close must not keep the others open
                log.exception("closing channel %s failed", channel.name)
        await self.commerce.close()
        await self.redis.aclose()


@dataclass
class Runtime:
    container: Container
    pipeline: Pipeline
    notifier: Notifier
    sms: SandboxSms
    interpreter: Interpreter
    jobs_run: int = 0
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _relay_loop: asyncio.Task[None] | None = None
    #: reloads the NLU's catalogue terms when another process changed what is on sale (R4.2-3)
    catalogue_sync: CatalogueSync = field(init=False)

    def __post_init__(self) -> None:
        self.catalogue_sync = CatalogueSync(self.container.redis, self.follow_catalogue)

    @property
    def commerce(self) -> Commerce:
        return self.container.commerce

    @property
    def _late_events_window(self) -> timedelta:
        """How far back an erasure may still meet a late write of behaviour events: a process writes
        what it holds within a flush interval (or drops it); ten of them, and never under ten minutes,
        leaves room for a slow database."""
        flush_seconds = self.container.settings.analytics.flush_seconds
        return max(timedelta(minutes=10), timedelta(seconds=10 * flush_seconds))

    @property
    def channels(self) -> dict[str, Channel]:
        return self.container.channels

    @property
    def routes(self) -> list[RouteInstaller]:
        return self.container.routes

    @property
    def inboxes(self) -> dict[str, InboxSender]:
        """The inboxes of the channels that have one (console, web chat), by channel name."""
        return {
            name: channel.inbox
            for name, channel in self.container.channels.items()
            if isinstance(channel, InboxChannel)
        }

    def inbox(self, channel: str) -> InboxSender:
        """Where replies pushed to a console or web chat user wait until the client asks."""
        found = self.container.channels.get(channel)
        if not isinstance(found, InboxChannel):
            raise LookupError(f"channel {channel!r} has no inbox")
        return found.inbox

    def channel_jobs(self) -> list[Job]:
        return [job for channel in self.container.channels.values() for job in channel.jobs()]

    async def run_channel_jobs(self, stop: asyncio.Event) -> None:
        """Every channel's background jobs until ``stop`` (the serving process runs them)."""
        await asyncio.gather(self.catalogue_sync.run(stop), *(job(stop) for job in self.channel_jobs()))

    async def tick(self) -> dict[str, int]:
        """One round of every background job; each is idempotent and safe to run anywhere."""
        commerce = self.container.commerce
        figures = {
            "expired": len(await commerce.orders.expire_unpaid()),
            "auto_shipped": len(await auto_ship(commerce, self.container.settings.auto_ship_after_seconds)),
            "tracking_events": await commerce.shipments.refresh_open(),
            "delays": len(await commerce.shipments.detect_delays()),
            # waybills Kuaidi100 has not pushed for a while are queried (the fallback)
            "waybills_queried": await commerce.shipments.query_quiet_waybills(
                timedelta(minutes=self.container.settings.kuaidi100.query_after_minutes)
            ),
            # waybills Kuaidi100 stopped tracking once are subscribed again after its half hour
            "waybills_resubscribed": await commerce.shipments.stops.resubscribe_due(),
            "refunds_retried": await commerce.payments.retry_pending_refunds(),
            # nobody claimed them in time: the shopper is told (outbox) and the bot takes over again
            "handoffs_timed_out": len(await commerce.support.expire_overdue()),
            # after-sales cases past the 24-hour first answer: staff alerted, later admins (R5.4-1)
            "cases_overdue": len(await commerce.case_parties.alert_overdue()),
            # return parcels the carrier delivered: received; an exchange's replacement ships
            "returns_received": len(await commerce.case_parties.receive_returns()),
            # the relay loop of run_jobs delivers on commit; without it, deliver what is due now
            "notified": 0 if self._relay_loop else await self.relay_notifications(),
            # behaviour events a process wrote just after their shopper was erased (R6.3-1)
            "late_events_erased": await commerce.privacy.erase_late_events(self._late_events_window),
            # paid orders held back by a merchant chat's send window go out as one digest
            "merchant_digests": await flush_merchant_digests(self.notifier),
        }
        self.jobs_run += 1
        if self.jobs_run % 30 == 0:
            await self.refresh_catalogue()
            await commerce.support.forget_history()  # handoff history past its retention (R7.1-3)
            await commerce.analytics.prune(self.container.settings.analytics.retention_days)
        return figures

    async def relay_notifications(self) -> int:
        """Push every due outbox event now (after a web turn, so a payment confirmation shows at once)."""
        return await self.outbox_relay().drain()

    def outbox_relay(self) -> OutboxRelay:
        commerce = self.container.commerce
        return OutboxRelay(commerce.engine, commerce.clock, self.notifier.handle, sessions=commerce.sessions)

    async def refresh_catalogue(self) -> None:
        self.interpreter.update_catalogue(await catalogue_terms(self.container.commerce))

    async def follow_catalogue(self) -> None:
        """Another process changed what is on sale: search's segmenter learns any new listing's words
        (a query must be cut as its documents were) and the NLU reloads its product terms."""
        await self.container.commerce.catalog.load_search_terms()
        await self.refresh_catalogue()

    async def run_jobs(self, interval: float = 2.0) -> None:
        self._relay_loop = self._relay_loop or asyncio.create_task(self.outbox_relay().run(self._stop))
        while not self._stop.is_set():
            try:
                await self.tick()
            except Exception:  # keep the worker alive; every job retries next round
                log.exception("background jobs failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=interval)
        await self._relay_loop  # it stops with the same event

    def stop(self) -> None:
        self._stop.set()

    async def aclose(self) -> None:
        self.stop()
        if self.pipeline.behaviour is not None:  # write the events still in memory
            await self.pipeline.behaviour.close()
        await self.container.aclose()


def settle_heap(runtime: Runtime) -> None:
    """Load what the first message would, then take all that start-up loaded out of the cycle
    collector's reach (long-running processes only).

    Why: the NLU model, jieba's dictionary and the catalogue terms are millions of objects that live
    as long as the process, and every full collection walked all of them: pauses of up to 140 ms, in
    which no turn is answered (measured in ``bench/turns.py``, five of them in a minute). Frozen
    objects are still freed by reference counting; only cycles among them would outlive the freeze.
    """
    warm_up = getattr(runtime.interpreter, "warm_up", None)  # the built-in NLU; Rasa is remote
    if warm_up is not None:
        warm_up()
    gc.collect()
    gc.freeze()
