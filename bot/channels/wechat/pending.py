"""Messages WeChat handed us that are not answered yet, kept in Redis until they are.

Why: WeChat tries a message three times within about 15 s and then gives up for good. A process that
took a message and died (kill -9, OOM, a deploy) before answering leaves nobody to answer it if its
restart takes longer than WeChat's retries; so the raw message is written down on arrival and struck
off once answered (passive reply or customer-service messages). A recovery job in every process
answers entries older than any live process could still be working on (the turn lease plus WeChat's
retry window) with customer-service messages; the turn's processing mark and the push's sent mark keep
two processes from answering twice.

Cost (issue 16's profile: two of the seven Redis round trips a WeChat turn added to the pipeline's):
the entry is written in the turn's first round trip (:meth:`PendingMessages.add_on`, queued with the
claim, the window and the choices), and answered messages are struck off together
(:meth:`PendingMessages.done`: one ``HDEL`` for every message answered before the channel's next
group-committed round trip, which it rides in; see :mod:`roundtrips`). A passive reply's strike-off is not
waited for (:meth:`PendingMessages.answered`): it rides a round trip someone else starts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import redis.asyncio as aioredis

from bot.infra.roundtrips import RoundTrips

PENDING = "shopbot:wechat:pending"
#: seconds an answered message waits for a round trip to ride before it gets one of its own
STRIKE_DELAY = 0.01
log = logging.getLogger(__name__)
#: ``json.dumps(..., ensure_ascii=False)``, whose every call made a new encoder (its defaults' is cached)
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


class PendingMessages:
    """A Redis hash: delivery key -> {"xml": the decrypted message, "at": when it arrived}."""

    def __init__(self, redis: aioredis.Redis, group: RoundTrips | None = None) -> None:
        self.redis = redis
        self._group = group or RoundTrips(redis, settle_turns=1, raise_errors=True)
        self._gathering: list[str] | None = None  # keys answered since the last HDEL left
        self._gathered: asyncio.Future[list[Any]] | None = None  # that HDEL's result
        self._flying: set[str] = set()  # keys of the HDELs on their way
        self._later: list[str] | None = None  # keys answered (:meth:`answered`) for the next ride
        self._later_sent: asyncio.Future[list[Any]] | None = None  # that ride's result
        self._unsettled: set[asyncio.Future[list[Any]]] = set()  # rides :meth:`flush` waits for

    async def add(self, dedup_key: str, xml: str) -> None:
        await self.redis.hsetnx(PENDING, dedup_key, self._entry(xml))  # type: ignore[misc]

    def add_on(self, batch: Any, dedup_key: str, xml: str) -> None:
        """:meth:`add` queued on a Redis pipeline (one round trip with the turn's other commands)."""
        batch.hsetnx(PENDING, dedup_key, self._entry(xml))

    @staticmethod
    def _entry(xml: str) -> str:
        return _ENCODE({"xml": xml, "at": time.time()})

    async def done(self, dedup_key: str) -> None:
        """Strike ``dedup_key`` off; returns once it is. Keys answered before the next round trip of
        the channel's :class:`RoundTrips` leave together in one ``HDEL``, in that round trip (with
        other requests' claims and replies under load)."""
        if self._gathering is None or self._gathered is None:
            keys: list[str] = []
            self._gathering = keys
            self._gathered = self._group.add(lambda batch: self._strike_on(batch, keys))
            self._gathered.add_done_callback(lambda _: self._flying.difference_update(keys))
        self._gathering.append(dedup_key)
        await asyncio.shield(self._gathered)

    def answered(self, dedup_key: str) -> None:
        """Strike ``dedup_key`` off without waiting: the ``HDEL`` rides the channel's next round trip
        (a turn's claim or reply, under load soon), or one of its own after :data:`STRIKE_DELAY`.

        Why: the passive reply's handler waited for the strike-off after writing the answer, and under
        load that was a round trip of its own a third of the time (issue 16). Nothing waits for it
        but the channel's :meth:`flush` (shutdown); the recovery job skips what is on its way
        (:meth:`striking`), and it looks only at entries older than a turn's lease and WeChat's retries.
        """
        if self._later is None or self._later_sent is None:
            keys: list[str] = []
            self._later = keys
            self._later_sent = sent = self._group.add(
                lambda batch: self._strike_later_on(batch, keys), ride=True
            )
            self._unsettled.add(sent)
            sent.add_done_callback(lambda done: self._settled(done, keys))
            asyncio.get_running_loop().call_later(STRIKE_DELAY, self._group.kick)
        self._later.append(dedup_key)

    def _strike_later_on(self, batch: Any, keys: list[str]) -> None:
        if self._later is keys:
            self._later = self._later_sent = None
        self._flying.update(keys)
        batch.hdel(PENDING, *keys)

    def _settled(self, sent: asyncio.Future[list[Any]], keys: list[str]) -> None:
        self._flying.difference_update(keys)
        self._unsettled.discard(sent)
        if not sent.cancelled() and sent.exception() is not None:
            # left listed: the recovery job answers them again (as if this process had died here)
            log.error("wechat: striking %d answered messages off failed: %r", len(keys), sent.exception())

    async def flush(self) -> None:
        """Wait until every message :meth:`answered` so far is struck off (or its round trip failed)."""
        self._group.kick()
        if self._unsettled:
            await asyncio.gather(*list(self._unsettled), return_exceptions=True)

    def _strike_on(self, batch: Any, keys: list[str]) -> None:
        """Queued when the round trip is made up: keys answered from now on go to the next one."""
        if self._gathering is keys:
            self._gathering = self._gathered = None
        self._flying.update(keys)
        batch.hdel(PENDING, *keys)

    def striking(self, dedup_key: str) -> bool:
        """Whether ``dedup_key`` is answered and about to be struck off (the recovery job skips it)."""
        return (
            dedup_key in self._flying
            or (self._gathering is not None and dedup_key in self._gathering)
            or (self._later is not None and dedup_key in self._later)
        )

    async def overdue(self, older_than: float, limit: int = 100) -> list[tuple[str, str]]:
        """(delivery key, xml) of entries that arrived more than ``older_than`` seconds ago."""
        raw: dict[bytes, bytes] = await self.redis.hgetall(PENDING)  # type: ignore[misc]
        cutoff = time.time() - older_than
        found: list[tuple[str, str]] = []
        for key, value in raw.items():
            if self.striking(key.decode()):
                continue  # answered; its HDEL is on its way
            entry = json.loads(value)
            if float(entry.get("at", 0)) < cutoff:
                found.append((key.decode(), str(entry["xml"])))
        return found[:limit]
