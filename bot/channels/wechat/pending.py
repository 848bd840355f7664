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
window and the choices), and answered messages are struck off together (:meth:`PendingMessages.done`:
one ``HDEL`` for every message answered while the previous one was on its way).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import redis.asyncio as aioredis

PENDING = "shopbot:wechat:pending"


class PendingMessages:
    """A Redis hash: delivery key -> {"xml": the decrypted message, "at": when it arrived}."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self._gathering: _Strike | None = None  # keys answered since the last HDEL left
        self._flying: set[str] = set()  # keys of the HDEL on its way
        self._striker: asyncio.Task[None] | None = None

    async def add(self, dedup_key: str, xml: str) -> None:
        await self.redis.hsetnx(PENDING, dedup_key, self._entry(xml))  # type: ignore[misc]

    def add_on(self, batch: Any, dedup_key: str, xml: str) -> None:
        """:meth:`add` queued on a Redis pipeline (one round trip with the turn's other commands)."""
        batch.hsetnx(PENDING, dedup_key, self._entry(xml))

    @staticmethod
    def _entry(xml: str) -> str:
        return json.dumps({"xml": xml, "at": time.time()}, ensure_ascii=False)

    async def done(self, dedup_key: str) -> None:
        """Strike ``dedup_key`` off; returns once it is (group commit: keys answered while an ``HDEL``
        is on its way leave together in the next one)."""
        if self._gathering is None:
            self._gathering = _Strike(asyncio.get_running_loop().create_future())
        strike = self._gathering
        strike.keys.append(dedup_key)
        if self._striker is None:
            self._striker = asyncio.create_task(self._strike())
        await asyncio.shield(strike.future)

    def striking(self, dedup_key: str) -> bool:
        """Whether ``dedup_key`` is answered and about to be struck off (the recovery job skips it)."""
        gathering = self._gathering
        return dedup_key in self._flying or (gathering is not None and dedup_key in gathering.keys)

    async def _strike(self) -> None:
        try:
            while (strike := self._gathering) is not None:
                self._gathering = None
                self._flying = set(strike.keys)
                try:
                    await self.redis.hdel(PENDING, *strike.keys)  # type: ignore[misc]
                except Exception as error:  # noqa: BLE001 - each waiter gets it
                    strike.future.set_exception(error)
                else:
                    strike.future.set_result(None)
                finally:
                    self._flying = set()
        finally:
            self._striker = None

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


class _Strike:
    """Keys struck off by one ``HDEL``, and the future their callers wait on."""

    __slots__ = ("future", "keys")

    def __init__(self, future: asyncio.Future[None]) -> None:
        self.keys: list[str] = []
        self.future = future
        # a waiter cancelled meanwhile must not leave "exception never retrieved" behind
        future.add_done_callback(lambda done: done.cancelled() or done.exception())
