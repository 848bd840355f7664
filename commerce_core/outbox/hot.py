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
    Table,
    Update,
    any_,
    bindparam,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from commerce_core.db.base import table_of
from commerce_core.outbox import store
from commerce_core.outbox.model import OutboxMessage
from commerce_core.outbox.store import Settlement

_OUTBOX: Table = table_of(OutboxMessage)


def _by_ids(**values: Any) -> Update:
    ids = bindparam("ids", type_=ARRAY(_OUTBOX.c.id.type))
    return update(_OUTBOX).where(_OUTBOX.c.id == any_(ids)).values(**values)


_TS = _OUTBOX.c.available_at.type
_SENT = _by_ids(sent_at=bindparam("at", type_=_TS))
_RELEASED = _by_ids(available_at=bindparam("at", type_=_TS))
#: the recipients' claim's lease (see ``OutboxRelay._claim_keys``)
LEASE = _by_ids(available_at=bindparam("until", type_=_TS))


def settlement_writes(now: datetime, outcome: Settlement) -> list[tuple[Update, dict[str, Any]]]:
    """:func:`commerce_core.outbox.store.settlement_writes` with the ids as one array (``= ANY``)."""
    return store.settlement_writes(now, outcome, sent=_SENT, released=_RELEASED)
