"""Prometheus metrics (R7.1-2): what the alert rules in ``deploy/prometheus/`` and the Grafana
dashboard in ``deploy/grafana/`` read.

Two kinds of series:

* counted as things happen: turn latency per channel and flow, turns and failed turns per channel,
  NLU intents and fallbacks, webhook rejects and payment callbacks (the HTTP middleware in
  :mod:`bot.observability.http`), database connections in use (pool events);
* sampled when Prometheus scrapes (:meth:`Metrics.sample`): Telegram inbox depth, outbox lag,
  notification backlog, after-sales cases overdue for a first response. Asking the database once per
  scrape (every 15 s or so) costs nothing a shopper would notice; asking it per turn would.

Multi-process safe: with ``PROMETHEUS_MULTIPROC_DIR`` set (before the process starts, as
prometheus-client requires) every process writes its values to files there and any process's
``/metrics`` answers with the sum over all of them (:func:`exposition`). Gauges say how they combine
across processes (``livesum`` for connections, ``livemostrecent`` for the sampled figures, which every
process would read the same from the shared database).

The per-turn cost is a few dictionary look-ups and additions (see ``bench/turns.py``, metrics on vs off).
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import os
import secrets
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import event, text

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
            "shopbot_turn_seconds", "Time to answer one shopper message, by channel and flow",
            ["channel", "flow"], buckets=TURN_BUCKETS, registry=r,
        )
        self.turns = Counter("shopbot_turns", "Shopper turns answered, by channel", ["channel"], registry=r)
        self.turn_errors = Counter(
            "shopbot_turn_errors", "Shopper turns that failed (retried or dead-lettered)", ["channel"],
            registry=r,
        )
        self.nlu_intents = Counter(
            "shopbot_nlu_intents", "Messages by the intent the NLU recognised", ["intent"], registry=r
        )
        self.nlu_fallbacks = Counter(
            "shopbot_nlu_fallbacks", "Messages the bot did not understand (the fallback answered)",
            ["channel"], registry=r,
        )
        self.webhook_rejects = Counter(
            "shopbot_webhook_rejects", "Webhook and callback requests refused (bad signature, body ...)",
            ["route", "status"], registry=r,
        )
        self.payment_callbacks = Counter(
            "shopbot_payment_callbacks", "Payment provider callbacks, by route and outcome",
            ["route", "outcome"], registry=r,
        )
        self.db_pool_in_use = Gauge(
            "shopbot_db_pool_in_use", "Database connections checked out of the pool",
            registry=r, multiprocess_mode="livesum",
        )
        self.telegram_inbox_depth = Gauge(
            "shopbot_telegram_inbox_depth", "Telegram updates stored but not yet processed",
            registry=r, multiprocess_mode="livemostrecent",
        )
        self.outbox_lag_seconds = Gauge(
            "shopbot_outbox_lag_seconds", "Age of the oldest due outbox message not yet delivered",
            registry=r, multiprocess_mode="livemostrecent",
        )
        self.notification_backlog = Gauge(
            "shopbot_notification_backlog", "Outbox messages (notifications) queued, not yet delivered",
            registry=r, multiprocess_mode="livemostrecent",
        )
        self.overdue_cases = Gauge(
            "shopbot_after_sales_overdue_cases", "After-sales cases past their first-response deadline",
            registry=r, multiprocess_mode="livemostrecent",
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
        """Count connections in use from the pool's own check-out and check-in events."""
        pool_events = commerce.engine.sync_engine
        gauge = self.db_pool_in_use
        event.listen(pool_events, "checkout", lambda *_: gauge.inc())
        event.listen(pool_events, "checkin", lambda *_: gauge.dec())

    async def sample(self, commerce: Commerce, telegram_backlog: Any = None) -> None:
        """Read the figures that live in the database and Redis (at scrape time). A figure that cannot
        be read is left as it was and logged: a scrape must not fail because one source is away."""
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


class TurnRecord:
    """One turn being measured: started by :meth:`TurnMetrics.begin`, told what the NLU and the
    engine made of it, closed by :meth:`done` or :meth:`failed`."""

    __slots__ = ("_context", "_flow", "_observer", "_started", "channel")

    def __init__(self, observer: TurnMetrics, channel: str, context: Any) -> None:
        self._observer, self.channel, self._context = observer, channel, context
        self._flow = "none"
        self._started = time.perf_counter()

    def understood(self, flow: str, intent: str, fallback: bool) -> None:
        metrics = self._observer.metrics
        self._flow = flow
        metrics.nlu_intents.labels(intent).inc()
        if fallback:
            metrics.nlu_fallbacks.labels(self.channel).inc()

    def done(self) -> None:
        metrics, seconds = self._observer.metrics, time.perf_counter() - self._started
        metrics.turns.labels(self.channel).inc()
        metrics.turn_seconds.labels(self.channel, self._flow).observe(seconds)
        if log.isEnabledFor(logging.DEBUG):  # a line per turn only when asked: rendering one costs
            log.debug("turn", extra={"flow": self._flow, "ms": round(seconds * 1000, 1)})
        self._close()

    def failed(self) -> None:
        self._observer.metrics.turn_errors.labels(self.channel).inc()
        log.warning("turn failed", extra={"flow": self._flow}, exc_info=True)
        self._close()

    def _close(self) -> None:
        structlog.contextvars.reset_contextvars(**self._context)
        _current.set(None)


class TurnMetrics:
    """The pipeline's observer when metrics are on; :data:`NO_OBSERVER` when they are off."""

    def __init__(self, metrics: Metrics, log_key: bytes = b"") -> None:
        self.metrics = metrics
        self._log_key = log_key or secrets.token_bytes(16)

    def begin(self, message: InboundMessage) -> TurnRecord:
        """A turn starts: its record, and the log context (a pseudonym of the conversation, a turn id;
        never the user id itself, which on Telegram is a phone-book-searchable number)."""
        conversation = hashlib.blake2s(
            message.conversation_key.encode(), key=self._log_key[:32], digest_size=6
        ).hexdigest()
        context = structlog.contextvars.bind_contextvars(
            conversation=conversation, turn=secrets.token_hex(4), channel=message.channel
        )
        record = TurnRecord(self, message.channel, context)
        _current.set(record)
        return record

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
TurnObserver = TurnMetrics | NoObserver


def observer_for(enabled: bool, commerce: Commerce, log_key: str | None) -> TurnObserver:
    """What :func:`bot.bootstrap.start` gives the pipeline: metrics on a fresh registry (and the
    pool's connection count), or nothing at all."""
    if not enabled:
        return NO_OBSERVER
    metrics = Metrics()
    metrics.watch_pool(commerce)
    return TurnMetrics(metrics, hashlib.sha256((log_key or "").encode()).digest() if log_key else b"")
