"""The outbox's settling on PostgreSQL: recording what a relay round delivered in one round trip.

Why: the web chat's pay button relays the payer's own notifications into its answer
(:meth:`~commerce_core.outbox.relay.OutboxRelay.drain_recipients`), and every relay round records
its outcome. Through the ORM that was a session, BEGIN, the UPDATE and COMMIT; here the common case
(everything sent) is one prepared ``UPDATE`` on a hot unit as its own transaction
(:meth:`commerce_core.uow.Units.hot`), mixed outcomes one combined statement with the commit. Each
statement touches rows by primary key, so its plan does not depend on the queue table's statistics
(the claim stays in :mod:`commerce_core.outbox.store`: see ``OutboxRelay._claim_keys`` for why).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    Table,
    Update,
    any_,
    bindparam,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from commerce_core.db.base import table_of
from commerce_core.outbox.model import OutboxMessage
from commerce_core.outbox.store import Settlement

_OUTBOX: Table = table_of(OutboxMessage)


def _by_id(**values: Any) -> Update:
    return (
        update(_OUTBOX).where(_OUTBOX.c.id == bindparam("row_id", type_=_OUTBOX.c.id.type)).values(**values)
    )


def _by_ids(**values: Any) -> Update:
    ids = bindparam("ids", type_=ARRAY(_OUTBOX.c.id.type))
    return update(_OUTBOX).where(_OUTBOX.c.id == any_(ids)).values(**values)


_TS = _OUTBOX.c.available_at.type
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
