"""Every process's search and NLU follow listings going on and off sale (R4.3, R4.2-3).

Why here, on the outbox, and not in the page that approves: a listing goes live or leaves sale from
several places (a reviewer's decision in the back office, shoppers' reports in the chat taking it off
sale, the CLI's publish), in whichever process that happens. The core records each as an event in the
same transaction; this subscriber turns every such event into :func:`announce_catalogue_change`, which
each process's :class:`~bot.catalogue_sync.CatalogueSync` sees within half a second. A failed
announcement is retried by the relay like any notification. Nobody is messaged: it returns none.
"""

from __future__ import annotations

import redis.asyncio as aioredis

from bot.catalogue_sync import announce_catalogue_change
from bot.notifications.compose import Notification, Writing
from bot.notifications.notifier import Notifier
from commerce_core.api import ListingReviewed, ProductStatusChanged, ReviewKind, ReviewState
from commerce_core.catalog.types import ListingStatus

ON_SALE = ListingStatus.LIVE.value


class CatalogueAnnouncer:
    """ProductStatusChanged (into or out of "live") and an approved new version of a live listing
    (its words changed) -> one announcement."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self.announced = 0

    async def status_changed(self, event: ProductStatusChanged, writing: Writing) -> list[Notification]:
        if event.from_status != event.to_status and ON_SALE in (event.from_status, event.to_status):
            await self._announce()
        return []

    async def reviewed(self, event: ListingReviewed, writing: Writing) -> list[Notification]:
        if event.kind == ReviewKind.REVISION.value and event.decision == ReviewState.APPROVED.value:
            await self._announce()
        return []

    async def _announce(self) -> None:
        await announce_catalogue_change(self._redis)
        self.announced += 1


def announce_listing_changes(notifier: Notifier, redis: aioredis.Redis) -> Notifier:
    """Subscribe the announcer (``shopbot serve`` and ``shopbot worker`` relay the outbox)."""
    announcer = CatalogueAnnouncer(redis)
    notifier.subscribe(ProductStatusChanged, announcer.status_changed)
    notifier.subscribe(ListingReviewed, announcer.reviewed)
    return notifier
