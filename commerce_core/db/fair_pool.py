"""A connection pool that serves waiting callers first come, first served.

Why: SQLAlchemy's asyncio pool waits on an ``asyncio.Queue``. A connection given back is put in the
queue and the longest waiter is woken, but before that waiter runs, any task that asks now (often
the one that just gave the connection back, starting its next unit of work) takes it with
``get_nowait``. The woken waiter finds the queue empty and queues again, at the back. Under load a
few conversations keep the connections and the rest starve: p99 latency in seconds while p50 is in
tens of milliseconds (seen with ``bench/turns.py`` at 100 concurrent conversations).

Here a connection given back goes straight to the longest waiter (hand-off), and nobody takes one
from the shelf while others wait.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Any, TypeVar

from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util import await_
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty, Full

_T = TypeVar("_T")


class FairQueue(AsyncAdaptedQueue[_T]):
    """FIFO hand-off queue with the interface SQLAlchemy's pool expects (``get``/``put``)."""

    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        super().__init__(maxsize, use_lifo)
        self._items: deque[_T] = deque()
        self._waiters: deque[asyncio.Future[_T]] = deque()

    def empty(self) -> bool:
        return not self._items

    def full(self) -> bool:
        return 0 < self.maxsize <= len(self._items)

    def qsize(self) -> int:
        return len(self._items)

    def put_nowait(self, item: _T) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(item)
                return
        if self.full():
            raise Full()
        if self.use_lifo:
            self._items.append(item)
        else:
            self._items.appendleft(item)

    def put(self, item: _T, block: bool = True, timeout: float | None = None) -> None:
        self.put_nowait(item)  # the pool never holds more entries than its size: no need to block

    def get_nowait(self) -> _T:
        if not self._items:
            raise Empty()
        return self._items.pop()

    def get(self, block: bool = True, timeout: float | None = None) -> _T:
        if self._items or not block:
            return self.get_nowait()
        return await_(self._wait(timeout))

    async def _wait(self, seconds: float | None) -> _T:
        waiter: asyncio.Future[_T] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(waiter, seconds)
        except BaseException as error:
            if waiter.done() and not waiter.cancelled():  # handed a connection as time ran out
                if isinstance(error, TimeoutError):
                    return waiter.result()
                self.put_nowait(waiter.result())  # cancelled: pass it on rather than lose it
            if isinstance(error, TimeoutError):
                raise Empty() from None
            raise
        finally:
            if not waiter.done():
                waiter.cancel()
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)


class FairAsyncQueuePool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio queue pool with :class:`FairQueue` as its wait queue."""

    _queue_class: Any = FairQueue
    #: connections hot units keep between units (``fast.parking``): checked out, but not in use
    parked = 0

    def checkedout(self) -> int:
        """Connections in use (parked ones are idle: they do not count)."""
        return int(super().checkedout()) - self.parked


def has_waiters(pool: Any) -> bool:
    """True when someone waits for a connection of ``pool`` (then a connection given back goes to them)."""
    queue = getattr(pool, "_pool", None)
    return isinstance(queue, FairQueue) and any(not waiter.done() for waiter in queue._waiters)


def note_parked(pool: Any, change: int) -> None:
    """Count connections parked by hot units (see ``FairAsyncQueuePool.checkedout``)."""
    if isinstance(pool, FairAsyncQueuePool):
        pool.parked += change
