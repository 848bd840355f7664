"""Behaviour events: written in batches, pruned by day, erased with the shopper, and summed up for the
back-office dashboard (R6.2-1, R6.1-1/2).

Why batches: a turn must not wait for an INSERT. The edge hands events to :class:`EventBuffer`, which
keeps them in memory and writes them in one statement every ``interval`` seconds (or as soon as
``batch_size`` are waiting): a binary COPY on PostgreSQL, a multi-row INSERT elsewhere; a turn pays for
a list append. Events still in memory when the process
dies are lost: acceptable for statistics, never for orders (orders and payments are counted from their
own tables, not from events).

Why pseudonyms: the events say what people looked for, not who they are. ``subject`` is a blind index
(HMAC under the blind-index key) of the customer id, so the dashboard cannot name anyone, while erasure
can still find and delete a person's events by computing the same index.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, String, bindparam, case, delete, func, insert, literal_column, select

from commerce_core.analytics.figures import dashboard_figures
from commerce_core.analytics.model import BehaviourEvent
from commerce_core.analytics.types import BehaviourEventInput, DashboardFigures
from commerce_core.db.base import UTCDateTime, table_of
from commerce_core.db.fast.pg_unit import PgUnitOfWork
from commerce_core.orders.model import OrderLine
from commerce_core.security import FieldCipher
from commerce_core.uow import Units, Work

log = logging.getLogger(__name__)


_FIRST_MERCHANT = (
    select(func.min(OrderLine.merchant_id))
    .where(OrderLine.order_id == bindparam("b_order"))
    .scalar_subquery()
)
#: the ``paid`` rows of one order: one per merchant in it (``merchant_id``, that merchant's share in
#: ``amount``), so a merchant's funnel counts the orders it sold in; ``results`` is 1 on exactly one row
#: of the order (the lowest merchant id), so the shop-wide funnel sums ``results`` and counts each order
#: once however many merchants shared it
_PAID_ROWS = insert(table_of(BehaviourEvent)).from_select(
    ["day", "at", "kind", "subject", "channel", "language", "merchant_id", "amount", "results"],
    select(
        bindparam("b_day", type_=Date()),
        bindparam("b_at", type_=UTCDateTime()),
        bindparam("b_kind", type_=String()),
        bindparam("b_subject", type_=String()),
        bindparam("b_channel", type_=String()),
        bindparam("b_language", type_=String()),
        OrderLine.merchant_id,
        func.sum(OrderLine.line_total),
        # literal columns, not bound values: every bind of the statement is then one the hook passes,
        # so the fast path binds it directly (bound 1 and 0 sent each capture through SQLAlchemy's
        # construct_params, ~10 µs)
        case((OrderLine.merchant_id == _FIRST_MERCHANT, literal_column("1")), else_=literal_column("0")),
    )
    .where(OrderLine.order_id == bindparam("b_order"))
    .group_by(OrderLine.merchant_id),
)


def paid_event_writer(subject_of: Callable[[int], str]) -> Callable[[Work, int, int, str], Awaitable[None]]:
    """The payments' ``on_paid`` hook: the ``paid`` events go with the capture's own commit.

    Why in the capture's unit rather than the turn buffer: a payment arrives from the provider's
    callback, outside any turn, and exactly once (the capture is idempotent), so the event is neither
    lost with a process nor counted twice. It is one more statement in the commit's single round trip.
    """

    async def write(uow: Work, order_id: int, customer_id: int, provider: str) -> None:
        at = uow.now()
        await uow.write_later(
            _PAID_ROWS,
            {
                "b_order": order_id,
                "b_day": at.date(),
                "b_at": at,
                "b_kind": "paid",
                "b_subject": subject_of(customer_id),
                "b_channel": provider[:16],
                "b_language": "-",
            },
        )

    return write


def customer_subject(cipher: FieldCipher, customer_id: int) -> str:
    """The pseudonym a customer's events carry (also what erasure deletes by)."""
    return cipher.blind_index(f"behaviour:customer:{customer_id}")


async def events_of(session: Any, subject: str) -> list[dict[str, Any]]:
    rows = (
        await session.scalars(
            select(BehaviourEvent).where(BehaviourEvent.subject == subject).order_by(BehaviourEvent.id)
        )
    ).all()
    return [
        {
            "kind": r.kind,
            "at": r.at.isoformat(),
            "channel": r.channel,
            "language": r.language,
            "product": r.product,
            "query": r.query,
            "filters": r.filters,
            "results": r.results,
        }
        for r in rows
    ]


#: one INSERT for every batch: a constant statement, so the hot unit prepares it once per connection
#: and sends each batch with asyncpg's ``executemany`` (no per-batch statement building or compiling)
_INSERT_EVENTS = insert(table_of(BehaviourEvent)).inline()  # no RETURNING id: nobody reads it

#: the columns of an event row as :class:`EventBuffer` keeps it (a tuple: a turn's events cost a tuple
#: each, not a dataclass and a dictionary, ~4 µs apiece)
EVENT_COLUMNS = (
    "day",
    "at",
    "kind",
    "subject",
    "channel",
    "language",
    "merchant_id",
    "product",
    "query",
    "filters",
    "results",
    "amount",
)
EventRow = tuple[Any, ...]


def event_row(e: BehaviourEventInput) -> EventRow:
    return (
        e.at.date(),
        e.at,
        e.kind,
        e.subject,
        e.channel,
        e.language,
        e.merchant_id,
        e.product,
        e.query,
        e.filters,
        e.results,
        e.amount,
    )


#: pseudonyms remembered per process before the cache is emptied (a bound on memory, not a policy)
_SUBJECTS_KEPT = 50_000


class AnalyticsService:
    def __init__(self, units: Units, cipher: FieldCipher) -> None:
        self._units = units
        self._cipher = cipher
        #: pseudonyms already computed: a shopper's events come a few per conversation, and an HMAC
        #: (~10 µs through :mod:`hmac`) per event was most of the per-turn recorder's cost
        self._subjects: dict[str, str] = {}

    def _subject(self, value: str) -> str:
        subject = self._subjects.get(value)
        if subject is None:
            if len(self._subjects) >= _SUBJECTS_KEPT:
                self._subjects.clear()
            subject = self._subjects[value] = self._cipher.blind_index(value)
        return subject

    def now(self) -> datetime:
        return self._units.clock.now()

    def customer_subject(self, customer_id: int) -> str:
        """The same value as :func:`customer_subject`, remembered."""
        return self._subject(f"behaviour:customer:{customer_id}")

    def paid_hook(self) -> Callable[[Work, int, int, str], Awaitable[None]]:
        """For ``commerce.payments.on_paid`` (see :func:`paid_event_writer`)."""
        return paid_event_writer(self.customer_subject)

    def conversation_subject(self, conversation_key: str) -> str:
        """Before a web chatter becomes a customer: a pseudonym of the conversation instead."""
        return self._subject(f"behaviour:conversation:{conversation_key}")

    async def record(self, events: Sequence[BehaviourEventInput]) -> None:
        await self.record_rows([event_row(e) for e in events])

    async def record_rows(self, rows: Sequence[EventRow]) -> None:
        """Write rows in :data:`EVENT_COLUMNS` order (what :class:`EventBuffer` collects)."""
        if not rows:
            return
        # the hot unit: on PostgreSQL one binary COPY on the raw asyncpg connection (its own
        # transaction; the INSERT's bind processors convert the values, so the rows are the same);
        # elsewhere (SQLite) the ORM unit and the INSERT. An ORM session per batch cost ~0.5 ms of CPU
        # before the INSERT, and a prepared executemany still paid a message and an argument list
        # built in Python per row
        async with self._units.hot(single_statement=True) as uow:
            if isinstance(uow, PgUnitOfWork):
                await uow.copy_rows(_INSERT_EVENTS, EVENT_COLUMNS, rows)
            else:
                await uow.execute(
                    _INSERT_EVENTS, [dict(zip(EVENT_COLUMNS, row, strict=True)) for row in rows]
                )
            await uow.commit()

    async def prune(self, keep_days: int) -> int:
        """Delete the days older than ``keep_days`` (the retention setting); returns rows deleted."""
        async with self._units.orm() as uow:
            oldest_kept = uow.now().date() - timedelta(days=keep_days)
            result = await uow.session.execute(delete(BehaviourEvent).where(BehaviourEvent.day < oldest_kept))
            await uow.commit()
            return int(getattr(result, "rowcount", 0) or 0)

    async def events_of(self, customer_id: int) -> list[dict[str, Any]]:
        """The shopper's own events, for ``/export``."""
        async with self._units.orm() as uow:
            return await events_of(uow.session, self.customer_subject(customer_id))

    async def figures(self, start: date, end: date, merchant_id: int | None = None) -> DashboardFigures:
        """Aggregates for ``start``..``end`` (inclusive), see :mod:`commerce_core.analytics.figures`."""
        async with self._units.orm() as uow:
            return await dashboard_figures(uow.session, start, end, merchant_id, uow.now())


class EventBuffer:
    """Collects events in memory and writes them in batches from a background task."""

    def __init__(self, analytics: AnalyticsService, *, interval: float = 2.0, batch_size: int = 500) -> None:
        self._analytics = analytics
        self._interval = interval
        self._batch_size = batch_size
        self._pending: list[EventRow] = []
        #: producers that keep their own raw records and make rows of them only at flush time (the
        #: per-turn recorder: building rows in the turn cost more there, in code and data the turn had
        #: left cold, than in one loop at flush), as (rows drained, rows waiting)
        self._sources: list[tuple[Callable[[], list[EventRow]], Callable[[], int]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def batch_size(self) -> int:
        return self._batch_size

    def add_source(self, drain: Callable[[], list[EventRow]], waiting: Callable[[], int]) -> None:
        """Rows that ``drain`` hands over at each flush (``waiting`` says how many it holds)."""
        self._sources.append((drain, waiting))

    def wake(self) -> None:
        """Write now rather than at the next interval (a source holds a batch's worth)."""
        self._wake.set()

    def add(self, events: Sequence[BehaviourEventInput]) -> None:
        self.add_rows([event_row(e) for e in events])

    def add_rows(self, rows: Sequence[EventRow]) -> None:
        """Rows in :data:`EVENT_COLUMNS` order."""
        self._pending.extend(rows)
        if len(self._pending) >= self._batch_size:
            self._wake.set()

    @property
    def pending(self) -> int:
        waiting = sum(count() for _, count in self._sources)
        return len(self._pending) + waiting

    async def flush(self) -> None:
        for drain, _ in self._sources:
            self._pending.extend(drain())
        while self._pending:
            batch, self._pending = self._pending[: self._batch_size], self._pending[self._batch_size :]
            try:
                await self._analytics.record_rows(batch)
            except Exception:  # statistics must never take a turn down; the batch is dropped and logged
                log.warning("behaviour events: %d dropped", len(batch), exc_info=True)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="behaviour-events")

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            await self.flush()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()
