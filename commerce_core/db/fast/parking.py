"""Hot units' connections kept between units (parked) instead of going back through the pool each time.

Why: taking a connection from SQLAlchemy's pool and giving it back costs two greenlet switches and the
pool's checkout/checkin bookkeeping, ~70-110 µs of CPU per unit of work (``select 1`` in a hot unit:
~110-130 µs, the statement alone ~20 µs). A shopper turn runs one to four hot units, so that was
~15 % of the pipeline's CPU per turn. A parked connection is handed to the next hot unit directly.

What keeps this safe and fair:

* hot units hold at most ``pool_size`` connections, parked ones included: the admission gate of
  :mod:`.pg_unit` lets at most ``pool_size`` hot units run at once, and a unit takes a parked
  connection before it asks the pool, so a new checkout happens only when none is parked;
* a connection is parked only when nobody waits for the pool: an ORM unit (or anything else) that
  queued for a connection gets the next one given back, as before;
* parked connections unused for :data:`IDLE_RETURN` go back to the pool (a sweep on a timer), so a
  quiet process holds nothing the ORM units or the pool's own bookkeeping cannot see, and every
  connection goes back at least every :data:`MAX_PARKED` (the pool's ``pool_recycle`` applies);
* the same checks as a pool checkout apply when a parked connection is taken (see
  ``PgUnitOfWork._live_connection``): a closed one is discarded, one idle for a while is pinged;
* ``engine.dispose()`` closes the parked connections (``engine_disposed`` listener), and the pool
  counts parked connections as not in use (:meth:`FairAsyncQueuePool.checkedout`), so the
  "connections in use" metric still means in use.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

from commerce_core.db.fair_pool import has_waiters, note_parked

#: a parked connection unused this long goes back to the pool (seconds)
IDLE_RETURN = 0.1
#: a connection goes back to the pool at least this often (seconds since it was checked out)
MAX_PARKED = 30.0
_CHECKED_OUT_AT = "shopbot_fast_checked_out_at"


class Parking:
    """The parked connections of one pool in one event loop (last parked, first taken)."""

    def __init__(self, engine: Engine, loop: asyncio.AbstractEventLoop, capacity: int) -> None:
        self._engine = engine
        self._pool = engine.pool
        self.loop = loop
        self._capacity = capacity
        self._parked: list[tuple[PoolProxiedConnection, float]] = []
        self._sweep: asyncio.TimerHandle | None = None
        self._returning: set[asyncio.Task[None]] = set()

    def take(self) -> PoolProxiedConnection | None:
        if not self._parked:
            return None
        fairy, _ = self._parked.pop()
        note_parked(self._pool, -1)
        return fairy

    def park(self, fairy: PoolProxiedConnection) -> bool:
        """Keep ``fairy`` for the next hot unit; False when it must go back to the pool instead."""
        now = self.loop.time()
        checked_out = fairy.info.setdefault(_CHECKED_OUT_AT, now)
        if (
            len(self._parked) >= self._capacity
            or now - checked_out > MAX_PARKED
            or self._engine.pool is not self._pool
            or has_waiters(self._pool)
        ):
            fairy.info.pop(_CHECKED_OUT_AT, None)
            return False
        self._parked.append((fairy, now))
        note_parked(self._pool, 1)
        if self._sweep is None:
            self._sweep = self.loop.call_later(IDLE_RETURN, self._return_idle)
        return True

    def _return_idle(self) -> None:
        """Give connections parked for longer than :data:`IDLE_RETURN` back to the pool."""
        self._sweep = None
        cutoff = self.loop.time() - IDLE_RETURN
        idle = [fairy for fairy, since in self._parked if since <= cutoff]
        if idle:
            self._parked = [(fairy, since) for fairy, since in self._parked if since > cutoff]
            note_parked(self._pool, -len(idle))
            task = self.loop.create_task(_give_back(idle))
            self._returning.add(task)
            task.add_done_callback(self._returning.discard)
        if self._parked:
            self._sweep = self.loop.call_later(IDLE_RETURN, self._return_idle)

    def abandon(self) -> None:
        """Forget the parked connections without touching them (they belong to another event loop)."""
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        note_parked(self._pool, -len(self._parked))
        self._parked = []

    def close_all(self) -> None:
        """Close every parked connection now (the engine is being disposed, in its greenlet). Parked
        connections of another event loop cannot be closed from here: they are only forgotten."""
        try:
            ours = asyncio.get_running_loop() is self.loop
        except RuntimeError:  # a synchronous dispose
            ours = False
        if not ours:
            self.abandon()
            return
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        parked, self._parked = self._parked, []
        note_parked(self._pool, -len(parked))
        for fairy, _ in parked:
            fairy.info.pop(_CHECKED_OUT_AT, None)
            with contextlib.suppress(Exception):  # a broken connection must not fail the dispose
                fairy.invalidate()  # closes the driver connection


async def _give_back(fairies: list[PoolProxiedConnection]) -> None:
    for fairy in fairies:
        fairy.info.pop(_CHECKED_OUT_AT, None)
        await greenlet_spawn(fairy.close)


_PARKINGS: weakref.WeakKeyDictionary[Engine, Parking] = weakref.WeakKeyDictionary()


def parking_of(engine: AsyncEngine) -> Parking | None:
    """The engine's parking for the running loop (None when the pool has no fixed size)."""
    sync = engine.sync_engine
    size = getattr(sync.pool, "size", None)
    if size is None:
        return None
    loop = asyncio.get_running_loop()
    found = _PARKINGS.get(sync)
    if found is not None and found.loop is loop and found._pool is sync.pool:
        return found
    if found is not None:
        found.abandon()  # another loop's (or a replaced pool's): unusable here
    if not event.contains(sync, "engine_disposed", _on_disposed):
        event.listen(sync, "engine_disposed", _on_disposed)
    parking = _PARKINGS[sync] = Parking(sync, loop, max(1, size()))
    return parking


def _on_disposed(engine: Any) -> None:
    parking = _PARKINGS.pop(engine, None)
    if parking is not None:
        parking.close_all()
