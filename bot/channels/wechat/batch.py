"""Group commit: the Redis commands of concurrent WeChat requests in one round trip.

Why: a WeChat turn's own Redis work (claiming the message, writing it down as unanswered, opening the
customer-service window, reading the shown buttons; then keeping the reply and the buttons; then
striking the message off) was three and a half round trips of its own in issue 16's profile, and in
redis-py every round trip costs far more CPU than the commands in it (taking and giving back a pooled
connection, observability hooks, a system call each way). Requests arrive together under load, so
their commands go together: whoever asks while no round trip is on its way starts one at the next turn
of the event loop; whoever asks while one is on its way joins the next. One request alone waits for
nothing but its own round trip; under load a round trip carries the commands of many.

The pipeline is not a transaction (no ``MULTI``): every caller's commands run in the order it queued
them, next to each other, and a cluster client splits the pipeline per node as it always does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis

#: queues one caller's commands on the shared pipeline (at flight time; it must not await)
Queue = Callable[[Any], None]


class GroupCommit:
    """Runs queued commands of many callers in one non-transactional Redis pipeline per round trip."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self._gathering: list[tuple[Queue, asyncio.Future[list[Any]]]] = []
        self._flusher: asyncio.Task[None] | None = None

    def add(self, queue: Queue) -> asyncio.Future[list[Any]]:
        """Queue ``queue``'s commands for the next round trip; the future gets their results in order
        (or the first error among them: a failed command fails only its own caller)."""
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        # a caller gone meanwhile must not leave "exception never retrieved" behind
        future.add_done_callback(_observe)
        self._gathering.append((queue, future))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())
        return future

    async def run(self, queue: Queue) -> list[Any]:
        """:meth:`add`, then wait for the results."""
        return await self.add(queue)

    async def _flush(self) -> None:
        try:
            while self._gathering:
                gathered, self._gathering = self._gathering, []
                gathered = [(queue, future) for queue, future in gathered if not future.done()]
                if gathered:
                    await self._fly(gathered)
        finally:
            self._flusher = None

    async def _fly(self, gathered: list[tuple[Queue, asyncio.Future[list[Any]]]]) -> None:
        spans: list[tuple[int, int] | BaseException] = []
        try:
            async with self._redis.pipeline(transaction=False) as batch:
                for queue, _future in gathered:
                    start = len(batch)
                    try:
                        queue(batch)
                    except Exception as error:  # noqa: BLE001 - that caller's, not the others'
                        spans.append(error)  # (what it queued before failing still runs, unread)
                    else:
                        spans.append((start, len(batch)))
                results = await batch.execute(raise_on_error=False) if len(batch) else []
        except Exception as error:  # noqa: BLE001 - the round trip failed: every caller gets it
            for _queue, future in gathered:
                if not future.done():
                    future.set_exception(error)
            return
        for (_queue, future), span in zip(gathered, spans, strict=True):
            if future.done():
                continue
            if isinstance(span, BaseException):
                future.set_exception(span)
                continue
            mine = results[span[0] : span[1]]
            failed = next((r for r in mine if isinstance(r, Exception)), None)
            if failed is not None:
                future.set_exception(failed)
            else:
                future.set_result(mine)


def _observe(future: asyncio.Future[list[Any]]) -> None:
    if not future.cancelled():
        future.exception()
