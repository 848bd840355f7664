"""What wakes an idle relay when a change with events commits.

Why: relays used to poll the outbox every 2 s, so a shopper saw "payment received" up to 2 s late and
every idle worker asked the database 30 times a minute. Now:

* PostgreSQL (:class:`PostgresListener`): an insert into the outbox fires ``NOTIFY shopbot_outbox``
  (migration 0003), which PostgreSQL delivers at commit to every session that LISTENs, in every
  process. The listener holds one connection of its own (detached from the engine's pool, so it
  takes no turn's place) and opens a new one, with back-off, when it is lost.
* SQLite, the embedded single-process default (:class:`CommitSignal`): the engine's own commit event
  tells the relay in the same process when a transaction that wrote outbox rows committed.

Either way the relay also polls slowly, as a safety net for a lost notification or another process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, Protocol

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

from commerce_core.outbox.model import OUTBOX_CHANNEL, OutboxMessage

log = logging.getLogger(__name__)


class Wakeup(Protocol):
    """Calls its ``signal`` when new outbox rows may be due; started and stopped by the relay."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class NoWakeup:
    """Polling only (a database without notifications, or tests that want the relay's poll)."""

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


class PostgresListener:
    """LISTEN on a dedicated asyncpg connection taken from ``engine``; reconnects when it is lost."""

    def __init__(
        self,
        engine: AsyncEngine,
        signal: Callable[[], None],
        *,
        channel: str = OUTBOX_CHANNEL,
        retry_delay: float = 1.0,
        max_retry_delay: float = 30.0,
        keepalive: float = 60.0,
    ) -> None:
        self._engine = engine
        self._signal = signal
        self._channel = channel
        self._retry_delay = retry_delay
        self._max_retry_delay = max_retry_delay
        self._keepalive = keepalive
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        self._attempted = asyncio.Event()
        #: how many times a connection was opened (the first, and each reconnection)
        self.connections = 0
        #: the server process listening for us (what pg_stat_activity shows), once listening
        self.backend_pid: int | None = None

    async def start(self) -> None:
        """Begin listening; returns once the first LISTEN is in place, or its first attempt failed
        (the relay polls meanwhile, and the listener keeps trying)."""
        self._task = asyncio.create_task(self._supervise(), name="outbox-listener")
        await self._attempted.wait()

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def listening(self) -> bool:
        return self._listening.is_set()

    async def _supervise(self) -> None:
        delay = self._retry_delay
        while True:
            lost = asyncio.Event()
            try:
                await self._listen_until(lost)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the server is away: poll, and try again later
                self._attempted.set()
                log.warning("outbox listener: %s: %s; retrying in %.0f s", type(exc).__name__, exc, delay)
            else:
                delay = self._retry_delay  # it ran until the connection dropped: retry at once
                continue
            finally:
                self._listening.clear()
            # whatever was committed while we were away is found by the wake-up after reconnecting
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_retry_delay)

    async def _listen_until(self, lost: asyncio.Event) -> None:
        fairy = await self._engine.raw_connection()
        driver = fairy.driver_connection
        fairy.detach()  # ours for as long as we listen; the pool opens another in its place
        assert isinstance(driver, asyncpg.Connection)
        self.connections += 1

        def on_notify(*_: Any) -> None:
            self._signal()

        def on_lost(*_: Any) -> None:
            lost.set()

        try:
            driver.add_termination_listener(on_lost)
            await driver.add_listener(self._channel, on_notify)
            self.backend_pid = driver.get_server_pid()
            log.info("outbox listener: listening on %s (backend %s)", self._channel, self.backend_pid)
            self._listening.set()
            self._attempted.set()
            # rows committed before LISTEN took effect sent their NOTIFY to nobody: look once
            self._signal()
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), timeout=self._keepalive)
                if not lost.is_set():
                    # a silently dropped network path closes nothing: ask, so we notice and reconnect
                    await asyncio.wait_for(driver.fetchval("SELECT 1"), timeout=self._keepalive / 4)
            log.warning("outbox listener: connection lost; reconnecting")
        finally:
            driver.terminate()  # never reused; a polite UNLISTEN could hang on a dead server
            with contextlib.suppress(Exception):
                await greenlet_spawn(fairy.close)


class CommitSignal:
    """Signals after a commit of this engine that inserted outbox rows (SQLite: one process).

    Costs one string comparison per statement on the embedded database; nothing on PostgreSQL, where
    it is not used.
    """

    _FLAG = "shopbot_outbox_written"

    def __init__(self, engine: AsyncEngine, signal: Callable[[], None]) -> None:
        self._sync_engine = engine.sync_engine
        self._signal = signal
        self._prefix = f"INSERT INTO {OutboxMessage.__tablename__} "
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        event.listen(self._sync_engine, "after_cursor_execute", self._after_execute)
        event.listen(self._sync_engine, "commit", self._after_commit)
        event.listen(self._sync_engine, "rollback", self._after_rollback)

    async def close(self) -> None:
        if self._loop is None:
            return
        event.remove(self._sync_engine, "after_cursor_execute", self._after_execute)
        event.remove(self._sync_engine, "commit", self._after_commit)
        event.remove(self._sync_engine, "rollback", self._after_rollback)
        self._loop = None

    def _after_execute(self, conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith(self._prefix):
            conn.info[self._FLAG] = True

    def _after_commit(self, conn: Any) -> None:
        # "commit" fires before the database commits; the relay's claim waits for the write lock
        # (BEGIN IMMEDIATE), so it reads the rows once they are there
        if conn.info.pop(self._FLAG, False) and self._loop is not None:
            self._loop.call_soon_threadsafe(self._signal)

    def _after_rollback(self, conn: Any) -> None:
        conn.info.pop(self._FLAG, None)
