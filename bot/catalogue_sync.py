"""Every process's in-memory catalogue (the NLU's product terms) follows catalogue changes made in
any other process, within a second.

Why a version key and not an in-process flag: search, product cards, carts and payments read the
database, so a frozen merchant's listings disappear from them on the next query in every process;
the NLU's product matching, though, works from terms loaded into each process's memory. Whoever
changes what is on sale (freezing or unfreezing a merchant, in the back office or the CLI) calls
:func:`announce_catalogue_change`, which bumps a counter in Redis and publishes it; each process runs
:class:`CatalogueSync`, which checks the counter twice a second and reloads its terms when it moved.
Polling a key (rather than only subscribing) means a process that was busy, restarted or missed a
message still catches up on its next check.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis

log = logging.getLogger(__name__)

VERSION_KEY = "shopbot:catalogue:version"
CHANNEL = "shopbot:catalogue:changed"
#: seconds between checks of the version key (the 2 s promise of R4.2-3 leaves room for a reload)
CHECK_INTERVAL = 0.5


async def announce_catalogue_change(redis: aioredis.Redis) -> int:
    """Tell every process that what is on sale changed; returns the new catalogue version."""
    version = int(await redis.incr(VERSION_KEY))
    with contextlib.suppress(Exception):  # the key is the authority; the message only wakes listeners
        # a plain PUBLISH: the cluster client has no ``publish`` helper; a cluster forwards it to every node
        await redis.execute_command("PUBLISH", CHANNEL, str(version))  # type: ignore[no-untyped-call]
    return version


class CatalogueSync:
    """Reloads this process's catalogue terms whenever the shared version moves."""

    def __init__(
        self,
        redis: aioredis.Redis,
        reload: Callable[[], Awaitable[None]],
        *,
        interval: float = CHECK_INTERVAL,
    ) -> None:
        self._redis = redis
        self._reload = reload
        self._interval = interval
        self.seen: bytes | str | None = None
        self.reloads = 0

    async def check(self) -> bool:
        """Reload if the version moved since the last check; True when it reloaded."""
        version = await self._redis.get(VERSION_KEY)
        if version == self.seen:
            return False
        await self._reload()
        self.seen = version
        self.reloads += 1
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Check until ``stop``; a failed check is logged and retried on the next round."""
        while not stop.is_set():
            try:
                await self.check()
            except Exception:  # Redis away or the reload failed: the next round tries again
                log.exception("catalogue sync check failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._interval)
