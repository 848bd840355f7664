"""The outbox queue's statements: claim the messages that may go now, settle what became of them.

Ordering: messages sharing an ``ordering_key`` (one shopper, say) are delivered in id order, so a
claim starts from the *head* of each key, the oldest queued message of it, and takes the due
messages right behind it (its run). While a head is claimed (leased) or backing off after a failure,
nothing else of its key can be claimed, by this relay or any other; other keys go on.

Several relays: heads are claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two relays never
take the same head, and the run behind a head can only be taken by whoever holds the head (for any
other relay those messages have an earlier queued one). A claim moves ``available_at`` a lease ahead;
delivery then happens with no transaction open, and a crashed relay's claim is taken again once the
lease ran out (at least once: handlers de-duplicate by message id). On SQLite, the embedded
single-process database, ``BEGIN IMMEDIATE`` serialises claims instead.

"Id order" is the order rows were inserted; two transactions for one key committing in the other
order than their inserts could be delivered in commit order instead. The units of work write one
shopper's events from one request at a time, so this does not arise in practice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Table,
    Update,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from commerce_core.db.base import table_of
from commerce_core.events import DomainEvent, decode
from commerce_core.outbox.model import OutboxMessage

_OUTBOX: Table = table_of(OutboxMessage)


@dataclass(frozen=True, slots=True)
class OutboxEnvelope:
    """One claimed outbox message, as handlers receive it."""

    id: int
    event_type: str
    payload: dict[str, Any]
    attempts: int
    ordering_key: str | None = None

    def event(self) -> DomainEvent:
        """The typed event (raises ``MalformedEvent``, which parks the message, if it cannot be read)."""
        return decode(self.event_type, self.payload)


@dataclass(frozen=True, slots=True)
class Retry:
    id: int
    attempts: int
    error: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Parked:
    id: int
    attempts: int
    error: str


@dataclass(slots=True)
class Settlement:
    """What became of claimed messages: sent, to retry later, parked, or handed back untried."""

    sent: list[int] = field(default_factory=list)
    retries: list[Retry] = field(default_factory=list)
    parked: list[Parked] = field(default_factory=list)
    #: behind a message that failed: back in the queue with no attempt spent (its head blocks it)
    released: list[int] = field(default_factory=list)

    def merge(self, other: Settlement) -> None:
        self.sent += other.sent
        self.retries += other.retries
        self.parked += other.parked
        self.released += other.released

    def __bool__(self) -> bool:
        return bool(self.sent or self.retries or self.parked or self.released)


def _queued(table: Any) -> ColumnElement[bool]:
    return and_(table.c.sent_at.is_(None), table.c.parked_at.is_(None))


def _of_keys(one: bool) -> ColumnElement[bool]:
    """``ordering_key IN :keys`` (expanding), or ``= :key`` for ONE key: the pay button's claim (one
    shopper) then needs no per-call expansion of the statement (PostgreSQL plans a one-element IN
    list as that ``=`` anyway)."""
    column = _OUTBOX.c.ordering_key
    return (
        column == bindparam("key", type_=column.type)
        if one
        else column.in_(bindparam("keys", expanding=True))
    )


def _heads(*, of_keys: bool, one: bool = False) -> Select[Any]:
    """The due heads (oldest queued message of their key, or a message with no key) up to ``limit``,
    locked; ``of_keys``: the heads of those ``keys`` alone, under the same rules. Bound parameters
    ``now``, ``limit`` (and ``keys``): built once, as building a statement costs more than running it (in
    issue 16's profile a claim built anew per pay button cost milliseconds before any SQL)."""
    earlier = _OUTBOX.alias("earlier")
    first_of_its_key = or_(
        _OUTBOX.c.ordering_key.is_(None),
        ~exists().where(
            earlier.c.ordering_key == _OUTBOX.c.ordering_key,
            earlier.c.id < _OUTBOX.c.id,
            _queued(earlier),
        ),
    )
    now = bindparam("now", type_=_OUTBOX.c.available_at.type)
    heads = _columns().where(_queued(_OUTBOX), _OUTBOX.c.available_at <= now, first_of_its_key)
    if of_keys:
        heads = heads.where(_of_keys(one))
    limit = bindparam("limit", type_=Integer())
    return heads.order_by(_OUTBOX.c.id).limit(limit).with_for_update(skip_locked=True, of=_OUTBOX)


def _columns() -> Select[Any]:
    t = _OUTBOX.c
    return select(t.id, t.event_type, t.payload, t.attempts, t.ordering_key, t.available_at)


@dataclass(frozen=True, slots=True)
class Claim:
    """What a claim took: messages to deliver (in id order), and how many it parked as unreadable."""

    messages: list[OutboxEnvelope]
    parked: int = 0

    def __len__(self) -> int:
        return len(self.messages) + self.parked


def _runs(*, one: bool = False) -> Select[Any]:
    """The first ``run`` queued rows of each of ``keys`` (window per key: a long backlog of one
    shopper cannot crowd the others out of the claim)."""
    t = _OUTBOX.c
    position = func.row_number().over(partition_by=t.ordering_key, order_by=t.id).label("position")
    ranked = (
        select(t.id, t.event_type, t.payload, t.attempts, t.ordering_key, t.available_at, position)
        .where(_queued(_OUTBOX), _of_keys(one))
        .subquery()
    )
    run = bindparam("run", type_=Integer())
    return select(ranked).where(ranked.c.position <= run).order_by(ranked.c.id)


def _by_ids(**values: Any) -> Any:
    """``UPDATE outbox SET ... WHERE id IN :ids`` (expanding), built once."""
    return update(_OUTBOX).where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True))).values(**values)


_HEADS, _HEADS_OF_KEYS, _RUNS = _heads(of_keys=False), _heads(of_keys=True), _runs()
_HEADS_OF_KEY, _RUNS_OF_KEY = _heads(of_keys=True, one=True), _runs(one=True)
_LEASE = _by_ids(available_at=bindparam("until", type_=_OUTBOX.c.available_at.type))
_SENT = _by_ids(sent_at=bindparam("at", type_=_OUTBOX.c.sent_at.type))
_RELEASED = _by_ids(available_at=bindparam("at", type_=_OUTBOX.c.available_at.type))
_PARK_UNREADABLE = _by_ids(
    parked_at=bindparam("at", type_=_OUTBOX.c.parked_at.type),
    attempts=_OUTBOX.c.attempts + 1,
    last_error="MalformedEvent: the payload is not a JSON object",
)


async def claim(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    *,
    batch: int,
    run: int,
    lease: timedelta,
    keys: Sequence[str] | None = None,
) -> Claim:
    """Lease up to ``batch`` heads and the due runs behind them (at most ``run`` messages a key).

    With ``keys`` (recipients' ordering keys), only those keys' heads and runs: what a channel
    relays into the answer of the requests that queued them (the web chat's pay button) without
    delivering everybody else's. The same head rule and lock apply, so a key another relay holds
    (leased, or being claimed right now) is left alone, and nothing is delivered twice or out of
    order."""
    async with sessions() as session, session.begin():
        return await claim_in(session.execute, now, batch=batch, run=run, lease=lease, keys=keys)


#: runs a Core statement with its parameters in the claim's transaction (an ORM session's or a hot
#: unit's ``execute``): both answer ``.all()`` with rows that name their columns
Execute = Callable[[Any, dict[str, Any]], Awaitable[Any]]


async def claim_in(
    execute: Execute,
    now: datetime,
    *,
    batch: int,
    run: int,
    lease: timedelta,
    keys: Sequence[str] | None = None,
    lease_by_ids: Update | None = None,
) -> Claim:
    """:func:`claim`'s statements, run by ``execute`` in a transaction the caller opened and commits
    (the relay's recipient claims run them on a hot unit on PostgreSQL: the same SQL, so the same
    plans, without an ORM session per pay button). ``lease_by_ids``: the lease ``UPDATE`` (parameters
    ``ids`` and ``until``), by default an expanding ``IN``; PostgreSQL's hot unit passes ``= ANY`` of an
    array (rows by primary key: one prepared statement whatever the count)."""
    lease_by_ids = _LEASE if lease_by_ids is None else lease_by_ids
    if keys is None:
        found = await execute(_HEADS, {"now": now, "limit": batch})
    elif len(keys) == 1:
        found = await execute(_HEADS_OF_KEY, {"now": now, "limit": batch, "key": keys[0]})
    else:
        found = await execute(_HEADS_OF_KEYS, {"now": now, "limit": batch, "keys": list(keys)})
    heads = found.all()
    if not heads:
        return Claim([])
    head_of = {row.ordering_key: row.id for row in heads if row.ordering_key is not None}
    chosen = [row for row in heads if row.ordering_key is None]
    if head_of:
        by_key: dict[str, list[Any]] = {}
        if len(head_of) == 1:
            [(key, _)] = head_of.items()
            runs = await execute(_RUNS_OF_KEY, {"key": key, "run": run})
        else:
            runs = await execute(_RUNS, {"keys": list(head_of), "run": run})
        for row in runs.all():
            by_key.setdefault(row.ordering_key, []).append(row)
        for key, rows in by_key.items():
            # an earlier row that committed after our look for heads now leads the key: leave
            # the key alone this round (its new head is someone else's, or ours next round)
            if rows[0].id != head_of[key]:
                continue
            chosen.append(rows[0])
            for row in rows[1:]:
                if row.available_at > now:
                    break
                chosen.append(row)
    # a payload that is not a JSON object cannot reach any handler: parked here, with the reason
    unreadable = [row.id for row in chosen if not isinstance(row.payload, dict)]
    if unreadable:
        await execute(_PARK_UNREADABLE, {"ids": unreadable, "at": now})
        chosen = [row for row in chosen if row.id not in unreadable]
    chosen.sort(key=lambda row: row.id)
    if chosen:
        await execute(lease_by_ids, {"ids": [row.id for row in chosen], "until": now + lease})
    messages = [
        OutboxEnvelope(row.id, row.event_type, row.payload, row.attempts, row.ordering_key) for row in chosen
    ]
    return Claim(messages, len(unreadable))


def _by_id(**values: Any) -> Update:
    return (
        update(_OUTBOX).where(_OUTBOX.c.id == bindparam("row_id", type_=_OUTBOX.c.id.type)).values(**values)
    )


_RETRY = _by_id(
    attempts=bindparam("tries", type_=Integer()),
    last_error=bindparam("error", type_=_OUTBOX.c.last_error.type),
    available_at=bindparam("at", type_=_OUTBOX.c.available_at.type),
)
_PARK = _by_id(
    attempts=bindparam("tries", type_=Integer()),
    last_error=bindparam("error", type_=_OUTBOX.c.last_error.type),
    parked_at=bindparam("at", type_=_OUTBOX.c.parked_at.type),
)


def settlement_writes(
    now: datetime, outcome: Settlement, *, sent: Update = _SENT, released: Update = _RELEASED
) -> list[tuple[Update, dict[str, Any]]]:
    """The statements recording ``outcome`` (disjoint rows each: they may run in any order).
    ``sent`` and ``released`` take the ids as ``ids``: an expanding ``IN`` here, PostgreSQL's hot
    unit passes ``= ANY`` of an array (:mod:`.hot`: one prepared statement whatever the count)."""
    writes: list[tuple[Update, dict[str, Any]]] = []
    if outcome.sent:
        writes.append((sent, {"ids": outcome.sent, "at": now}))
    if outcome.released:
        writes.append((released, {"ids": outcome.released, "at": now}))
    for retry in outcome.retries:
        writes.append(
            (_RETRY, {"row_id": retry.id, "tries": retry.attempts, "error": retry.error, "at": retry.at})
        )
    for parked in outcome.parked:
        writes.append(
            (_PARK, {"row_id": parked.id, "tries": parked.attempts, "error": parked.error, "at": now})
        )
    return writes


async def settle(sessions: async_sessionmaker[AsyncSession], now: datetime, outcome: Settlement) -> None:
    """Record ``outcome`` in one transaction."""
    async with sessions() as session, session.begin():
        for statement, values in settlement_writes(now, outcome):
            await session.execute(statement, values)


async def pending_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Messages still queued (neither sent nor parked)."""
    async with sessions() as session:
        count = await session.scalar(select(func.count()).select_from(_OUTBOX).where(_queued(_OUTBOX)))
        return int(count or 0)


@dataclass(frozen=True, slots=True)
class ParkedMessage:
    id: int
    event_type: str
    attempts: int
    last_error: str | None
    parked_at: datetime


async def parked_messages(
    sessions: async_sessionmaker[AsyncSession], *, limit: int = 100
) -> list[ParkedMessage]:
    """The messages the relay gave up on, newest first, with the error that parked them."""
    t = _OUTBOX.c
    async with sessions() as session:
        rows = await session.execute(
            select(t.id, t.event_type, t.attempts, t.last_error, t.parked_at)
            .where(t.parked_at.is_not(None))
            .order_by(t.id.desc())
            .limit(limit)
        )
        return [ParkedMessage(r.id, r.event_type, r.attempts, r.last_error, r.parked_at) for r in rows]


async def requeue(sessions: async_sessionmaker[AsyncSession], now: datetime, ids: list[int]) -> int:
    """Put parked messages back in the queue with fresh attempts (after the cause was fixed)."""
    t = _OUTBOX
    async with sessions() as session, session.begin():
        result = await session.execute(
            update(t)
            .where(t.c.id.in_(ids), t.c.parked_at.is_not(None), t.c.sent_at.is_(None))
            .values(parked_at=None, attempts=0, available_at=now)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
