"""Prometheus metrics (R7.1-2): what the alert rules in ``deploy/prometheus/`` and the Grafana
dashboard in ``deploy/grafana/`` read.

Two kinds of series:

* counted as things happen: turn latency per channel and flow, turns and failed turns per channel,
  NLU intents and fallbacks, webhook rejects and payment callbacks (the HTTP middleware in
  :mod:`bot.observability.http`); turns' counts reach the series at most a second late (tallied in
  plain integers, pushed once a second and at every scrape: :class:`TurnMetrics`), and database
  connections in use are read from the pool at each push;
* sampled when Prometheus scrapes (:meth:`Metrics.sample`): Telegram inbox depth, outbox lag,
  notification backlog, after-sales cases overdue for a first response. Asking the database once per
  scrape (every 15 s or so) costs nothing a shopper would notice; asking it per turn would.

Multi-process safe: with ``PROMETHEUS_MULTIPROC_DIR`` set (before the process starts, as
prometheus-client requires) every process writes its values to files there and any process's
``/metrics`` answers with the sum over all of them (:func:`exposition`). Gauges say how they combine
across processes (``livesum`` for connections, ``livemostrecent`` for the sampled figures, which every
process would read the same from the shared database).

The per-turn cost is a few dictionary look-ups and additions, pushed to the series once a second
(:class:`TurnMetrics`; see ``bench/turns.py``, metrics on vs off).
"""

from __future__ import annotations

import asyncio
import atexit
import bisect
import contextvars
import hashlib
import logging
import os
import secrets
import time
import weakref
from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import text

from commerce_core.api import Commerce, pending_count

if TYPE_CHECKING:
    from dialogs.messages import InboundMessage
    from dialogs.state import ConversationState
    from nlu import Interpretation

log = logging.getLogger(__name__)
#: a turn takes milliseconds; a slow one (a cold cache, a locked row) up to seconds
TURN_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
SERIES_SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created")}


class Metrics:
    """Every series the app exports, registered on one registry (one per bootstrap, so tests and the
    bench can hold two side by side)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.turn_seconds = Histogram(
            "shopbot_turn_seconds",
            "Time to answer one shopper message, by channel and flow",
            ["channel", "flow"],
            buckets=TURN_BUCKETS,
            registry=r,
        )
        self.turns = Counter("shopbot_turns", "Shopper turns answered, by channel", ["channel"], registry=r)
        self.turn_errors = Counter(
            "shopbot_turn_errors",
            "Shopper turns that failed (retried or dead-lettered)",
            ["channel"],
            registry=r,
        )
        self.nlu_intents = Counter(
            "shopbot_nlu_intents", "Messages by the intent the NLU recognised", ["intent"], registry=r
        )
        self.nlu_fallbacks = Counter(
            "shopbot_nlu_fallbacks",
            "Messages the bot did not understand (the fallback answered)",
            ["channel"],
            registry=r,
        )
        self.webhook_rejects = Counter(
            "shopbot_webhook_rejects",
            "Webhook and callback requests refused (bad signature, body ...)",
            ["route", "status"],
            registry=r,
        )
        self.payment_callbacks = Counter(
            "shopbot_payment_callbacks",
            "Payment provider callbacks, by route and outcome",
            ["route", "outcome"],
            registry=r,
        )
        self.db_pool_in_use = Gauge(
            "shopbot_db_pool_in_use",
            "Database connections checked out of the pool",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.telegram_inbox_depth = Gauge(
            "shopbot_telegram_inbox_depth",
            "Telegram updates stored but not yet processed",
            registry=r,
            multiprocess_mode="livemostrecent",
        )
        self.outbox_lag_seconds = Gauge(
            "shopbot_outbox_lag_seconds",
            "Age of the oldest due outbox message not yet delivered",
            registry=r,
            multiprocess_mode="livemostrecent",
        )
        self.notification_backlog = Gauge(
            "shopbot_notification_backlog",
            "Outbox messages (notifications) queued, not yet delivered",
            registry=r,
            multiprocess_mode="livemostrecent",
        )
        self._pool_in_use: Callable[[], int] | None = None
        #: called first at every scrape (the turn observer's counts not pushed yet)
        self.before_scrape: list[Callable[[], None]] = []
        self.overdue_cases = Gauge(
            "shopbot_after_sales_overdue_cases",
            "After-sales cases past their first-response deadline",
            registry=r,
            multiprocess_mode="livemostrecent",
        )

    def series_names(self) -> set[str]:
        """Every series name a scrape can show (``_bucket``, ``_total`` ... included): what the
        dashboard and the alert rules may use."""
        names: set[str] = set()
        for family in self.registry.collect():
            names.add(family.name)
            names.update(family.name + suffix for suffix in SERIES_SUFFIXES.get(family.type, ()))
        return names

    def watch_pool(self, commerce: Commerce) -> None:
        """Read connections in use from the pool (at every push of the turn counts, at most once a
        second while turns run, and at every scrape: cheaper than listening to every check-out and
        check-in, and right in multi-process mode, where each process reports its own pool and
        ``livesum`` adds them)."""
        self._pool_in_use = getattr(commerce.engine.sync_engine.pool, "checkedout", None)

    def sample_pool(self) -> None:
        if self._pool_in_use is not None:
            self.db_pool_in_use.set(self._pool_in_use())

    async def sample(self, commerce: Commerce, telegram_backlog: Any = None) -> None:
        """Read the figures that live in the database and Redis (at scrape time). A figure that cannot
        be read is left as it was and logged: a scrape must not fail because one source is away."""
        for push in self.before_scrape:
            push()
        self.sample_pool()
        try:
            self.notification_backlog.set(await pending_count(commerce.sessions))
            self.outbox_lag_seconds.set(await _outbox_lag(commerce))
            self.overdue_cases.set(len(await commerce.after_sales.overdue_first_response()))
        except Exception:  # report it, keep the rest of the scrape
            log.warning("metrics: database figures unavailable", exc_info=True)
        if telegram_backlog is not None:
            try:
                self.telegram_inbox_depth.set(await telegram_backlog())
            except Exception:
                log.warning("metrics: Telegram inbox depth unavailable", exc_info=True)


async def _outbox_lag(commerce: Commerce) -> float:
    """Seconds the oldest due, undelivered outbox message has waited (0 when none waits)."""
    query = text("SELECT min(available_at) FROM outbox WHERE sent_at IS NULL AND parked_at IS NULL")
    async with commerce.engine.connect() as conn:
        oldest = (await conn.execute(query)).scalar()
    if oldest is None:
        return 0.0
    if isinstance(oldest, str):  # SQLite hands back text for an aggregate
        oldest = datetime.fromisoformat(oldest)
    assert isinstance(oldest, datetime)
    oldest = oldest.replace(tzinfo=UTC) if oldest.tzinfo is None else oldest
    return max(0.0, (commerce.clock.now() - oldest).total_seconds())


def exposition(metrics: Metrics) -> bytes:
    """The text format Prometheus scrapes: this process's registry, or, in multi-process mode, every
    process's values aggregated from the shared directory."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(metrics.registry)


# -- the pipeline's hook: one record per turn -------------------------------------------------------

_current: contextvars.ContextVar[TurnRecord | None] = contextvars.ContextVar("shopbot_turn", default=None)


def turn_context(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: the current turn's ``conversation``, ``turn`` and ``channel`` on every log
    line written during it. Computed only when a line is written, so a turn that logs nothing pays
    for none of it."""
    record = _current.get()
    if record is not None:
        event_dict.setdefault("conversation", record.conversation)
        event_dict.setdefault("turn", record.turn_id)
        event_dict.setdefault("channel", record.channel)
    return event_dict


class TurnRecord:
    """One turn being measured: started by :meth:`TurnMetrics.begin`, told what the NLU and the
    engine made of it, closed by :meth:`done` or :meth:`failed`. Everything is counted at ``done``, in
    one call: the record only notes what it is told before."""

    __slots__ = (
        "_message", "_observer", "_started", "_turn_id", "channel", "fallback", "flow", "intent", "seconds",
    )  # fmt: skip

    def __init__(self, observer: TurnMetrics, message: InboundMessage) -> None:
        self._observer, self.channel, self._message = observer, message.channel, message
        self.flow, self.intent, self.fallback, self._turn_id = "none", "", False, ""
        self._started = time.perf_counter()
        self.seconds = 0.0

    @property
    def conversation(self) -> str:
        """A keyed pseudonym of the conversation: the same for all its turns, never the user id
        itself (on Telegram a number anyone can look up)."""
        key = self._message.conversation_key
        return hashlib.blake2s(key.encode(), key=self._observer.log_key, digest_size=6).hexdigest()

    @property
    def turn_id(self) -> str:
        if not self._turn_id:
            self._turn_id = secrets.token_hex(4)
        return self._turn_id

    def understood(self, flow: str, intent: str, fallback: bool) -> None:
        self.flow, self.intent, self.fallback = flow, intent, fallback

    def done(self) -> None:
        self.seconds = seconds = time.perf_counter() - self._started
        self._observer.answered(self)
        if log.isEnabledFor(logging.DEBUG):  # a line per turn only when asked: rendering one costs
            log.debug("turn", extra={"flow": self.flow, "ms": round(seconds * 1000, 1)})
        _current.set(None)

    def failed(self) -> None:
        if self.intent:  # understood before it failed: the NLU's count stands
            self._observer.counted(self.intent, self.channel, self.fallback)
        self._observer.metrics.turn_errors.labels(self.channel).inc()
        log.warning("turn failed", extra={"flow": self.flow}, exc_info=True)
        _current.set(None)


def _push_at_exit(push: weakref.WeakMethod[Callable[[], None]]) -> None:
    method = push()
    if method is not None:
        method()


#: how long counts made by turns wait in plain integers before they reach the Prometheus series (and,
#: in multi-process mode, the shared files other processes' scrapes read)
PUSH_SECONDS = 1.0


class TurnMetrics:
    """The pipeline's observer when metrics are on; :data:`NO_OBSERVER` when they are off.

    Why turns are kept as records and counted at most once a second (and at every scrape): every
    ``inc``/``observe``/``set`` of prometheus-client takes a lock (and in multi-process mode writes a
    memory-mapped file); per turn that was five of them plus the pool gauge: 5.2 µs of the observer per
    turn, 2.9 µs tallied in the turn (timeit). And in the running pipeline any counting in the turn
    costs several times its timeit figure: it runs between the turn's database and Redis work, with
    its code and data out of the CPU's caches (``bench/turns.py``: running the hooks twice per turn
    added a sixth of what running them once did). So a turn only notes its figures on its record and
    puts the record on a list; the push counts a second's records in one loop. The series lag by at
    most :data:`PUSH_SECONDS`."""

    def __init__(self, metrics: Metrics, log_key: bytes = b"") -> None:
        self.metrics = metrics
        self.log_key = (log_key or secrets.token_bytes(16))[:32]
        #: the turns answered since the last push, counted at the push
        self._answered: list[TurnRecord] = []
        self._intents: dict[str, int] = {}
        self._fallbacks: dict[str, int] = {}
        self._children: dict[tuple[str, str], tuple[Any, Any]] = {}
        self._bounds = (*TURN_BUCKETS, float("inf"))  # as the histogram keeps them
        self._timer: asyncio.TimerHandle | None = None
        metrics.before_scrape.append(self.push)
        atexit.register(_push_at_exit, weakref.WeakMethod(self.push))  # a worker's last second too

    def begin(self, message: InboundMessage) -> TurnRecord:
        record = TurnRecord(self, message)
        _current.set(record)
        return record

    def counted(self, intent: str, channel: str, fallback: bool) -> None:
        intents = self._intents
        intents[intent] = intents.get(intent, 0) + 1
        if fallback:
            self._fallbacks[channel] = self._fallbacks.get(channel, 0) + 1

    def answered(self, record: TurnRecord) -> None:
        """A turn answered: kept as it is until the next push counts it (see the class)."""
        self._answered.append(record)
        if self._timer is None:
            self._schedule()

    def _tally(self, records: list[TurnRecord]) -> dict[tuple[str, str], list[Any]]:
        """Per (channel, flow): [turns, seconds, count per histogram bucket ...]; and the NLU's
        intents and fallbacks (``intent`` empty when the turn never reached the NLU)."""
        tallies: dict[tuple[str, str], list[Any]] = {}
        bounds = self._bounds
        for record in records:
            channel, seconds = record.channel, record.seconds
            tally = tallies.get((channel, record.flow))
            if tally is None:
                tally = tallies[(channel, record.flow)] = [0, 0.0] + [0] * len(bounds)
            tally[0] += 1
            tally[1] += seconds
            tally[2 + bisect.bisect_left(bounds, seconds)] += 1  # the first bucket with seconds <= le
            if record.intent:
                self.counted(record.intent, channel, record.fallback)
        return tallies

    def _schedule(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # counted outside an event loop (a script): no later, push now
            self.push()
            return
        self._timer = loop.call_later(PUSH_SECONDS, self._timed_push)

    def _timed_push(self) -> None:
        self._timer = None
        self.push()

    def push(self) -> None:
        """Add what turns counted since the last push to the Prometheus series, and read the pool."""
        if self._timer is not None:  # everything goes now: no push pending any more
            self._timer.cancel()
            self._timer = None
        metrics = self.metrics
        answered, self._answered = self._answered, []
        for key, tally in self._tally(answered).items():
            children = self._children.get(key)
            if children is None:
                children = self._children[key] = (
                    metrics.turns.labels(key[0]),
                    metrics.turn_seconds.labels(*key),
                )
            turns, histogram = children
            turns.inc(tally[0])
            # the histogram child's own values (what ``observe`` adds to), a bucket at a time
            histogram._sum.inc(tally[1])
            for bucket, count in zip(histogram._buckets, tally[2:], strict=True):
                if count:
                    bucket.inc(count)
        intents, self._intents = self._intents, {}
        for intent, count in intents.items():
            metrics.nlu_intents.labels(intent).inc(count)
        fallbacks, self._fallbacks = self._fallbacks, {}
        for channel, count in fallbacks.items():
            metrics.nlu_fallbacks.labels(channel).inc(count)
        metrics.sample_pool()

    def understood(
        self,
        nlu: Interpretation,
        flow_before: str | None,
        misunderstood_before: int,
        state: ConversationState,
    ) -> None:
        record = _current.get()
        if record is None:
            return
        flow = flow_before or (state.active.flow if state.active else None) or nlu.intent
        record.understood(flow, nlu.intent, state.misunderstood > misunderstood_before)


class _NoRecord:
    def done(self) -> None:
        return None

    def failed(self) -> None:
        return None


class NoObserver:
    """Metrics off: nothing counted, nothing bound."""

    _record = _NoRecord()

    def begin(self, message: InboundMessage) -> _NoRecord:
        return self._record

    def understood(
        self,
        nlu: Interpretation,
        flow_before: str | None,
        misunderstood_before: int,
        state: ConversationState,
    ) -> None:
        return None


NO_OBSERVER = NoObserver()


class OpenTurn(Protocol):
    """A turn in progress, as the pipeline holds it."""

    def done(self) -> None: ...

    def failed(self) -> None: ...


class TurnObserver(Protocol):
    """What the pipeline calls per turn (``begin`` -> ``understood`` -> ``done``/``failed``).

    The seam for whatever else wants to see every turn (behaviour events, anomaly rules): implement
    this and combine it with :class:`TurnMetrics` in :func:`observer_for`, not in the pipeline."""

    def begin(self, message: InboundMessage) -> OpenTurn: ...

    def understood(
        self,
        nlu: Interpretation,
        flow_before: str | None,
        misunderstood_before: int,
        state: ConversationState,
    ) -> None: ...


def observer_for(enabled: bool, commerce: Commerce, log_key: str | None) -> TurnObserver:
    """What :func:`bot.bootstrap.start` gives the pipeline: metrics on a fresh registry (and the
    pool's connection count), or nothing at all."""
    if not enabled:
        return NO_OBSERVER
    metrics = Metrics()
    metrics.watch_pool(commerce)
    return TurnMetrics(metrics, hashlib.sha256(log_key.encode()).digest() if log_key else b"")
