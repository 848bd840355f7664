"""Behaviour events: written in batches, pruned by day, erased with the shopper, and summed up for the
back-office dashboard (R6.2-1, R6.1-1/2).

Why batches: a turn must not wait for an INSERT. The edge hands events to :class:`EventBuffer`, which
keeps them in memory and writes them with one multi-row INSERT every ``interval`` seconds (or as soon
as ``batch_size`` are waiting); a turn pays for a list append. Events still in memory when the process
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
import re
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select

from commerce_core.analytics.model import BehaviourEvent
from commerce_core.analytics.types import BehaviourEventInput, DashboardFigures, DayFigures
from commerce_core.catalog.model import Product
from commerce_core.db.base import table_of
from commerce_core.orders.model import Order, OrderLine
from commerce_core.security import FieldCipher
from commerce_core.uow import Units

log = logging.getLogger(__name__)
_PERSONAL = re.compile(r"\d{5,}|@")
FUNNEL = ("search", "product_view", "cart_add", "order_placed", "paid")


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


class AnalyticsService:
    def __init__(self, units: Units, cipher: FieldCipher) -> None:
        self._units = units
        self._cipher = cipher

    def now(self) -> datetime:
        return self._units.clock.now()

    def customer_subject(self, customer_id: int) -> str:
        return customer_subject(self._cipher, customer_id)

    def conversation_subject(self, conversation_key: str) -> str:
        """Before a web chatter becomes a customer: a pseudonym of the conversation instead."""
        return self._cipher.blind_index(f"behaviour:conversation:{conversation_key}")

    async def record(self, events: Sequence[BehaviourEventInput]) -> None:
        if not events:
            return
        rows = [
            {
                "day": e.at.date(),
                "at": e.at,
                "kind": e.kind,
                "subject": e.subject,
                "channel": e.channel,
                "language": e.language,
                "merchant_id": e.merchant_id,
                "product": e.product,
                "query": e.query,
                "filters": e.filters,
                "results": e.results,
                "amount": e.amount,
            }
            for e in events
        ]
        async with self._units.orm() as uow:
            await uow.session.execute(insert(table_of(BehaviourEvent)), rows)
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
        """Aggregates for ``start``..``end`` (inclusive). A merchant sees its own products' views and
        cart adds and its own orders; searches and NLU figures are shop-wide, so only admins get them."""
        since = datetime.combine(start, time.min, tzinfo=UTC)
        until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
        e = BehaviourEvent
        async with self._units.orm() as uow:
            s = uow.session
            counted = select(e.kind, func.count()).where(e.day >= start, e.day <= end)
            if merchant_id is not None:
                products = select(Product.code).where(Product.merchant_id == merchant_id)
                counted = counted.where(e.product.in_(products))
            kinds = dict((await s.execute(counted.group_by(e.kind))).all())
            counted_messages = select(func.coalesce(func.sum(e.results), 0)).where(
                e.day >= start, e.day <= end, e.kind == "messages"
            )
            messages = int(await s.scalar(counted_messages) or 0)
            zero = select(func.lower(e.query), func.count()).where(
                e.day >= start, e.day <= end, e.kind == "search", e.results == 0, e.query != ""
            )
            zero_rows = (await s.execute(zero.group_by(func.lower(e.query)))).all()
            orders = select(Order.id, Order.created_at, Order.paid_at, Order.total, Order.currency)
            if merchant_id is not None:
                mine = select(OrderLine.order_id).where(OrderLine.merchant_id == merchant_id)
                orders = orders.where(Order.id.in_(mine))
            created = (
                await s.execute(orders.where(Order.created_at >= since, Order.created_at < until))
            ).all()
            paid = (await s.execute(orders.where(Order.paid_at >= since, Order.paid_at < until))).all()
        per_day: dict[date, list[int]] = {}
        day = start
        while day <= end:
            per_day[day] = [0, 0]
            day += timedelta(days=1)
        for _, created_at, _, _, _ in created:
            bucket = per_day.get(created_at.date())
            if bucket is not None:
                bucket[0] += 1
        for _, _, paid_at, total, _ in paid:
            bucket = per_day.get(paid_at.date()) if paid_at else None
            if bucket is not None:
                bucket[1] += total
        funnel = {k: int(kinds.get(k, 0)) for k in FUNNEL[:3]}
        funnel["order_placed"], funnel["paid"] = len(created), len(paid)
        if merchant_id is not None:
            funnel.pop("search")
        # a search that looks like a phone number, an e-mail or an id is someone's data, not a wish
        wanted = {str(q): int(n) for q, n in zero_rows if q and not _PERSONAL.search(str(q))}
        top_zero = Counter(wanted).most_common(10)
        currency = next((row[4] for row in (*created, *paid)), "CNY")
        return DashboardFigures(
            start=start,
            end=end,
            funnel=funnel,
            per_day=[DayFigures(d, v[0], v[1]) for d, v in per_day.items()],
            zero_result_searches=top_zero if merchant_id is None else [],
            turns_understood=messages,
            nlu_fallbacks=int(kinds.get("nlu_fallback", 0)),
            currency=currency,
            merchant_id=merchant_id,
        )


class EventBuffer:
    """Collects events in memory and writes them in batches from a background task."""

    def __init__(self, analytics: AnalyticsService, *, interval: float = 2.0, batch_size: int = 500) -> None:
        self._analytics = analytics
        self._interval = interval
        self._batch_size = batch_size
        self._pending: list[BehaviourEventInput] = []
        #: turns per (channel, language), written as one ``messages`` row per pair and batch: the
        #: fallback rate's denominator without a row per turn
        self._messages: Counter[tuple[str, str]] = Counter()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def add(self, events: Sequence[BehaviourEventInput]) -> None:
        self._pending.extend(events)
        if len(self._pending) >= self._batch_size:
            self._wake.set()

    def count_message(self, channel: str, language: str) -> None:
        self._messages[(channel, language)] += 1

    @property
    def pending(self) -> int:
        return len(self._pending) + sum(self._messages.values())

    async def flush(self) -> None:
        if self._messages:
            at = self._analytics.now()
            counted, self._messages = self._messages, Counter()
            self._pending.extend(
                BehaviourEventInput("messages", "-", channel, language, at, results=n)
                for (channel, language), n in counted.items()
            )
        while self._pending:
            batch, self._pending = self._pending[: self._batch_size], self._pending[self._batch_size :]
            try:
                await self._analytics.record(batch)
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
