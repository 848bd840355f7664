"""Deliver outbox messages to a handler: at least once, in order per ordering key, concurrently
across keys, woken by commits, with back-off on failure and parking after too many.

A relay process runs :meth:`OutboxRelay.run` until stopped. Each round claims due messages (see
:mod:`commerce_core.outbox.store` for which ones, and why several relays can share the work), then
delivers them: the messages of one key one after another in id order, different keys at the same
time (at most ``concurrency`` at once). Between rounds it sleeps until a commit wakes it (LISTEN on
PostgreSQL, the engine's commit event on SQLite, see :mod:`commerce_core.outbox.wakeup`), a retry
falls due, or the slow safety-net poll comes round.

Failures: a handler that raises is retried after an exponential back-off (2 s, 4 s, ... at most 30
min), and the messages of its key behind it wait for it; after ``max_attempts`` failures, or at once
for a payload that cannot be decoded (``MalformedEvent``), the message is *parked* with its error
(see :func:`commerce_core.outbox.store.parked_messages` and ``requeue``) and its key goes on. A
message is marked sent only after its handler returned, so a crash means a retry, never a loss:
handlers must be idempotent (notification senders de-duplicate by outbox id).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from commerce_core.clock import Clock
from commerce_core.db.engine import create_session_factory, is_sqlite
from commerce_core.db.fast import pg_unit
from commerce_core.events import MalformedEvent, customer_key
from commerce_core.outbox import hot, store
from commerce_core.outbox.store import OutboxEnvelope, Parked, Retry, Settlement, pending_count
from commerce_core.outbox.wakeup import CommitSignal, NoWakeup, PostgresListener, Wakeup
from commerce_core.uow import Units

__all__ = [
    "Handler",
    "OutboxEnvelope",
    "OutboxRelay",
    "RelaySettings",
    "RoundReport",
    "customer_key",
    "default_wakeup",
    "pending_count",
    "relay_once",
]

log = logging.getLogger(__name__)

Handler = Callable[[OutboxEnvelope], Awaitable[None]]
#: builds what wakes the relay, given the relay's wake-up call
WakeupFactory = Callable[[AsyncEngine, Callable[[], None]], Wakeup]
MAX_BACKOFF = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class RelaySettings:
    """How a relay claims, delivers and waits (defaults suit one worker beside the web process)."""

    #: heads claimed per round (each may bring the due run of its key behind it)
    batch: int = 100
    #: messages of one key per claim, delivered one after another and recorded together
    run: int = 10
    #: keys delivered at the same time; below the engine's pool, which handlers share with turns
    concurrency: int = 8
    #: how long a claim keeps other relays off: longer than a whole run takes to deliver
    lease: timedelta = timedelta(seconds=60)
    #: failures after which a message is parked: with the back-off, about three days of retrying,
    #: so a notification waiting for a WeChat conversation window (48 h) or a long platform outage
    #: still arrives; what fails longer is kept, parked, with its error
    max_attempts: int = 160
    max_backoff: timedelta = MAX_BACKOFF
    #: safety-net poll while a notification wakes the relay (a lost NOTIFY, a late retry elsewhere)
    poll_interval: float = 15.0
    #: poll without notifications (SQLite written by another process, or the listener reconnecting)
    fallback_poll_interval: float = 1.0


@dataclass(frozen=True, slots=True)
class RoundReport:
    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    parked: int = 0


def default_wakeup(engine: AsyncEngine, signal: Callable[[], None]) -> Wakeup:
    """LISTEN/NOTIFY on PostgreSQL (asyncpg), the commit event on SQLite, else polling alone."""
    if is_sqlite(engine):
        return CommitSignal(engine, signal)
    if engine.dialect.name == "postgresql" and engine.dialect.driver == "asyncpg":
        return PostgresListener(engine, signal)
    return NoWakeup()


class OutboxRelay:
    """The outbox delivery loop as an object: :meth:`run` in a worker, :meth:`drain` for "now"."""

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        handler: Handler,
        *,
        settings: RelaySettings | None = None,
        sessions: async_sessionmaker[AsyncSession] | None = None,
        wakeup: WakeupFactory = default_wakeup,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.handler = handler
        self.settings = settings or RelaySettings()
        self.sessions = sessions or create_session_factory(engine)
        self._wakeup_factory = wakeup
        self._woken = asyncio.Event()
        self._retry_at: datetime | None = None
        self._settling = asyncio.Lock()
        self._unsettled = Settlement()
        #: PostgreSQL (asyncpg): recipients' claims and settlements on hot units (:mod:`.hot`)
        self._units = Units(self.sessions, clock) if pg_unit.supports(engine) else None

    def wake(self) -> None:
        """Look for due messages now (called by the wake-up source; safe to call any time)."""
        self._woken.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; survives database outages (it logs and tries again)."""
        wakeup = self._wakeup_factory(self.engine, self.wake)
        await wakeup.start()
        try:
            while not stop.is_set():
                self._woken.clear()
                try:
                    report = await self.deliver_once()
                except Exception:  # the database is away; the claim lease protects all
                    log.exception("outbox relay round failed; retrying")
                    report = RoundReport()
                if report.claimed:
                    continue  # there may be more, or the next message of a key just settled
                await self._sleep(stop, self._idle_timeout(wakeup))
        finally:
            await wakeup.close()

    async def drain(self) -> int:
        """Deliver everything due now and return how many were delivered (tests, the web chat)."""
        delivered = 0
        while (report := await self.deliver_once()).claimed:
            delivered += report.delivered
        return delivered

    async def deliver_once(self) -> RoundReport:
        """One round: claim, deliver by key (concurrently), settle; returns what happened."""
        settings = self.settings
        claimed = await store.claim(
            self.sessions, self.clock.now(), batch=settings.batch, run=settings.run, lease=settings.lease
        )
        return await self._deliver(claimed)

    async def drain_recipients(self, ordering_keys: Collection[str]) -> int:
        """Deliver what is due now for these recipients (ordering keys, e.g. :func:`customer_key`)
        and return how many were delivered; everybody else's messages stay for :meth:`run`.

        Why: the web chat's pay button shows the payment confirmation in its own answer. Draining the
        whole outbox there made that shopper wait for everybody's notifications (issue 16: the web
        path's p99 of 1.7 s). The claim follows the usual rules (each key's head, locked with SKIP
        LOCKED, then its due run, leased), so a key another relay is delivering is left to it."""
        delivered, settings = 0, self.settings
        keys = list(dict.fromkeys(ordering_keys))
        while keys:
            claimed = await self._claim_keys(keys)
            delivered += (await self._deliver(claimed)).delivered
            # a key whose run was full may have more behind it; the others gave all that was due
            taken = Counter(envelope.ordering_key for envelope in claimed.messages)
            keys = [key for key in keys if taken[key] >= settings.run]
        return delivered

    async def _claim_keys(self, keys: list[str]) -> store.Claim:
        """The claim of :mod:`.store`, on purpose its separate statements: one prepared ``UPDATE ...
        FROM (heads, runs)`` statement (five round trips -> one) was tried and measured slower where it
        counts. A queue table's statistics are rarely current, and its generic plan scanned every
        queued row (30-60 ms a pay button on the bench's outbox, web p99 0.43 -> 1.1 s, two serve
        processes 0.8 of one); the store's separate statements each keep to their index.

        On PostgreSQL they run on a hot unit: the same SQL (so the same plans) without an ORM
        session, its transaction and its per-statement bookkeeping on every pay button (issue 16)."""
        settings, now = self.settings, self.clock.now()
        if self._units is None:
            return await store.claim(
                self.sessions, now, batch=len(keys), run=settings.run, lease=settings.lease, keys=keys
            )
        async with self._units.hot() as uow:
            claimed = await store.claim_in(
                uow.execute,
                now,
                batch=len(keys),
                run=settings.run,
                lease=settings.lease,
                keys=keys,
                lease_by_ids=hot.LEASE,
            )
            await uow.commit()
        return claimed

    async def _deliver(self, claimed: store.Claim) -> RoundReport:
        if not claimed.messages:
            return RoundReport(claimed=claimed.parked, parked=claimed.parked)
        runs: dict[str | int, list[OutboxEnvelope]] = {}
        for envelope in claimed.messages:  # in id order, so each run is too
            runs.setdefault(envelope.ordering_key or envelope.id, []).append(envelope)
        gate = asyncio.Semaphore(self.settings.concurrency)
        outcomes = await asyncio.gather(*(self._deliver_run(run, gate) for run in runs.values()))
        total = Settlement()
        for outcome in outcomes:
            total.merge(outcome)
        parked = len(total.parked) + claimed.parked
        return RoundReport(len(claimed), len(total.sent), len(total.retries), parked)

    async def _deliver_run(self, run: list[OutboxEnvelope], gate: asyncio.Semaphore) -> Settlement:
        """One key's messages in order; a failure stops the run (the rest wait for the retry)."""
        outcome = Settlement()
        async with gate:
            for position, envelope in enumerate(run):
                try:
                    await self.handler(envelope)
                except MalformedEvent as exc:
                    outcome.parked.append(Parked(envelope.id, envelope.attempts + 1, _describe(exc)))
                    log.error("outbox message %s parked: %s", envelope.id, _describe(exc))
                except Exception as exc:  # noqa: BLE001 - any handler failure is retried later
                    if self._record_failure(envelope, exc, outcome):
                        continue  # parked: the key goes on
                    outcome.released.extend(e.id for e in run[position + 1 :])
                    break
                else:
                    outcome.sent.append(envelope.id)
        try:
            await self._settle(outcome)
        except Exception:  # unrecorded: the lease runs out and they go again
            log.exception("could not record the outcome of outbox messages %s", [e.id for e in run])
        return outcome

    def _record_failure(self, envelope: OutboxEnvelope, exc: Exception, outcome: Settlement) -> bool:
        """Back off, or park after too many failures (returns True when parked)."""
        attempts = envelope.attempts + 1
        error = _describe(exc)
        if attempts >= self.settings.max_attempts:
            outcome.parked.append(Parked(envelope.id, attempts, error))
            log.error("outbox message %s parked after %s attempts: %s", envelope.id, attempts, error)
            return True
        backoff = min(timedelta(seconds=2 ** min(attempts, 20)), self.settings.max_backoff)
        at = self.clock.now() + backoff
        outcome.retries.append(Retry(envelope.id, attempts, error, at))
        if self._retry_at is None or at < self._retry_at:
            self._retry_at = at
        log.warning("outbox message %s failed (attempt %s): %s", envelope.id, attempts, error)
        return False

    async def _settle(self, outcome: Settlement) -> None:
        """Record a run's outcome as soon as it is known (its key's next message may go then),
        batching with the runs that finish while a write is under way: one write at a time."""
        self._unsettled.merge(outcome)
        async with self._settling:
            if not self._unsettled:
                return  # a write that started after ours was recorded took it along
            pending, self._unsettled = self._unsettled, Settlement()
            if self._units is None:
                await store.settle(self.sessions, self.clock.now(), pending)
                return
            writes = hot.settlement_writes(self.clock.now(), pending)
            # one write (the usual: all sent) is its own transaction; more share one round trip
            single = len(writes) == 1
            async with self._units.hot(single_statement=single) as uow:
                for statement, values in writes:
                    if single:
                        await uow.execute(statement, values)
                    else:
                        await uow.write_later(statement, values)
                await uow.commit()

    def _idle_timeout(self, wakeup: Wakeup) -> float:
        # only a live LISTEN reaches every process's commits; SQLite's commit event sees this one's
        listening = isinstance(wakeup, PostgresListener) and wakeup.listening
        timeout = self.settings.poll_interval if listening else self.settings.fallback_poll_interval
        if self._retry_at is not None:
            until_retry = (self._retry_at - self.clock.now()).total_seconds()
            if until_retry <= timeout:
                self._retry_at = None
                timeout = max(until_retry, 0.0)
        return timeout

    async def _sleep(self, stop: asyncio.Event, seconds: float) -> None:
        woken = asyncio.create_task(self._woken.wait())
        stopped = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({woken, stopped}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (woken, stopped):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


async def relay_once(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    handler: Handler,
    *,
    batch: int = 100,
    lease: timedelta = timedelta(seconds=60),
) -> int:
    """Relay one round of due messages; return how many were delivered (kept for callers that
    hold only a session factory; :class:`OutboxRelay` is the relay)."""
    engine = sessions.kw["bind"]
    relay = OutboxRelay(
        engine, clock, handler, settings=RelaySettings(batch=batch, lease=lease), sessions=sessions
    )
    return (await relay.deliver_once()).delivered
