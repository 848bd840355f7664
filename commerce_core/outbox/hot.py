"""The outbox's hot statements on PostgreSQL: a recipients' claim in one round trip, and settling.

Why: the web chat's pay button relays the payer's own notifications into its answer
(:meth:`~commerce_core.outbox.relay.OutboxRelay.drain_recipients`). Through the ORM that claim was
a session, BEGIN, a head lookup, a run lookup, the lease and COMMIT: five round trips and ~1 ms of
CPU per pay button (issue 16). Here it is one prepared ``UPDATE ... FROM (heads, runs) RETURNING``
run on a hot unit as its own transaction (:meth:`commerce_core.uow.Units.hot`), and the settlement
of the common case (everything sent) one ``UPDATE`` likewise. SQLite keeps the ORM statements of
:mod:`commerce_core.outbox.store` (the relay picks which).

The rules are :mod:`commerce_core.outbox.store`'s, written as one statement:

* heads: the oldest queued row of each key, due, locked ``FOR UPDATE SKIP LOCKED`` (a key another
  relay is claiming is skipped; one it has leased has a head that is not due, so nothing behind it
  goes either);
* run: that key's queued rows from the head in id order, at most ``run`` of them, up to the first
  one not due (a row backing off stops its key), and only if the head is still the first of them;
* lease: ``available_at`` moves a lease ahead; the UPDATE re-checks that each row is still queued
  (a row sent by someone else meanwhile is not taken again);
* a payload that is not a JSON object is parked in the same statement (attempts + 1, the reason),
  its key goes on; the caller gets it back marked parked, never as a message to deliver.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    Table,
    Update,
    and_,
    any_,
    bindparam,
    case,
    exists,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from commerce_core.db.base import table_of
from commerce_core.outbox.model import OutboxMessage
from commerce_core.outbox.store import Claim, OutboxEnvelope, Settlement
from commerce_core.uow import Work

_OUTBOX: Table = table_of(OutboxMessage)
UNREADABLE = "MalformedEvent: the payload is not a JSON object"


def _queued(table: Any) -> ColumnElement[bool]:
    return and_(table.c.sent_at.is_(None), table.c.parked_at.is_(None))


def _claim_of_keys() -> Update:
    """The statement; binds ``now``, ``until``, ``keys`` (a text array), ``limit`` and ``run``."""
    t = _OUTBOX
    now = bindparam("now", type_=t.c.available_at.type)
    earlier = t.alias("earlier")
    heads = (
        select(t.c.id, t.c.ordering_key)
        .where(
            _queued(t),
            t.c.available_at <= now,
            t.c.ordering_key == any_(bindparam("keys", type_=ARRAY(String()))),
            ~exists().where(
                earlier.c.ordering_key == t.c.ordering_key, earlier.c.id < t.c.id, _queued(earlier)
            ),
        )
        .order_by(t.c.id)
        .limit(bindparam("limit", type_=Integer()))
        .with_for_update(skip_locked=True, of=t)
        .cte("heads")
    )
    rows = t.alias("queued_rows")
    key, order = rows.c.ordering_key, rows.c.id
    ranked = (
        select(
            rows.c.id,
            heads.c.id.label("head"),
            func.first_value(rows.c.id).over(partition_by=key, order_by=order).label("first"),
            func.row_number().over(partition_by=key, order_by=order).label("position"),
            # every row from the head to this one is due: a row backing off ends the run
            func.bool_and(rows.c.available_at <= now).over(partition_by=key, order_by=order).label("due"),
        )
        .select_from(rows.join(heads, rows.c.ordering_key == heads.c.ordering_key))
        .where(_queued(rows))
        .cte("ranked")
    )
    readable = func.jsonb_typeof(t.c.payload) == literal("object")
    return (
        update(_OUTBOX)
        .where(
            t.c.id == ranked.c.id,
            ranked.c.first == ranked.c.head,
            ranked.c.position <= bindparam("run", type_=Integer()),
            ranked.c.due,
            _queued(t),
        )
        .values(
            available_at=case(
                (readable, bindparam("until", type_=t.c.available_at.type)), else_=t.c.available_at
            ),
            parked_at=case((readable, None), else_=now),
            attempts=case((readable, t.c.attempts), else_=t.c.attempts + 1),
            last_error=case((readable, t.c.last_error), else_=literal(UNREADABLE)),
        )
        .returning(t.c.id, t.c.event_type, t.c.payload, t.c.attempts, t.c.ordering_key, t.c.parked_at)
    )


def _by_id(**values: Any) -> Update:
    return (
        update(_OUTBOX).where(_OUTBOX.c.id == bindparam("row_id", type_=_OUTBOX.c.id.type)).values(**values)
    )


def _by_ids(**values: Any) -> Update:
    ids = bindparam("ids", type_=ARRAY(_OUTBOX.c.id.type))
    return update(_OUTBOX).where(_OUTBOX.c.id == any_(ids)).values(**values)


_TS = _OUTBOX.c.available_at.type
_CLAIM_OF_KEYS = _claim_of_keys()
_SENT = _by_ids(sent_at=bindparam("at", type_=_TS))
_RELEASED = _by_ids(available_at=bindparam("at", type_=_TS))
_RETRY = _by_id(
    attempts=bindparam("tries", type_=Integer()),
    last_error=bindparam("error", type_=_OUTBOX.c.last_error.type),
    available_at=bindparam("at", type_=_TS),
)
_PARK = _by_id(
    attempts=bindparam("tries", type_=Integer()),
    last_error=bindparam("error", type_=_OUTBOX.c.last_error.type),
    parked_at=bindparam("at", type_=_TS),
)


async def claim_keys(uow: Work, now: datetime, keys: list[str], *, run: int, lease: timedelta) -> Claim:
    """Lease the due runs of ``keys`` (one head each, at most ``run`` messages a key) in one
    statement; ``uow`` is a single-statement hot unit (the statement is its own transaction)."""
    found = await uow.execute(
        _CLAIM_OF_KEYS,
        {"now": now, "until": now + lease, "keys": keys, "limit": len(keys), "run": run},
    )
    rows = sorted(found.all(), key=lambda row: row.id)  # RETURNING has no order; delivery has
    messages = [
        OutboxEnvelope(row.id, row.event_type, row.payload, row.attempts, row.ordering_key)
        for row in rows
        if row.parked_at is None
    ]
    return Claim(messages, len(rows) - len(messages))


def settlement_writes(now: datetime, outcome: Settlement) -> list[tuple[Update, dict[str, Any]]]:
    """The statements recording ``outcome`` (disjoint rows each: they may run in any order)."""
    writes: list[tuple[Update, dict[str, Any]]] = []
    if outcome.sent:
        writes.append((_SENT, {"ids": outcome.sent, "at": now}))
    if outcome.released:
        writes.append((_RELEASED, {"ids": outcome.released, "at": now}))
    for retry in outcome.retries:
        writes.append(
            (_RETRY, {"row_id": retry.id, "tries": retry.attempts, "error": retry.error, "at": retry.at})
        )
    for parked in outcome.parked:
        writes.append(
            (_PARK, {"row_id": parked.id, "tries": parked.attempts, "error": parked.error, "at": now})
        )
    return writes
