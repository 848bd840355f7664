"""What every unit of work writes besides its own changes: status history rows and outbox rows.

Why one module: both kinds of unit (the ORM unit and PostgreSQL's connection-level hot unit) must
write exactly the same rows for the same events, or a subscriber would see different messages
depending on which path placed an order. The rows are built here, once; each unit only chooses how
to send them (an ``INSERT`` with many parameter sets, or one ``unnest`` statement with the commit).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table

from commerce_core.clock import Clock
from commerce_core.db.base import table_of
from commerce_core.events import DomainEvent
from commerce_core.outbox.model import OutboxMessage
from commerce_core.status import StatusChange

HISTORY: Table = table_of(StatusChange)
OUTBOX: Table = table_of(OutboxMessage)

#: the columns of a history row, with their PostgreSQL types (the hot unit sends them as arrays)
HISTORY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("entity_type", "varchar"),
    ("entity_id", "bigint"),
    ("from_status", "varchar"),
    ("to_status", "varchar"),
    ("actor", "varchar"),
    ("reason", "varchar"),
    ("at", "timestamptz"),
)
#: the columns of an outbox row that differ per event, with their PostgreSQL types (``payload`` is
#: sent as JSON text) ...
OUTBOX_EVENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("event_type", "varchar"),
    ("payload", "jsonb"),
    ("ordering_key", "varchar"),
)
#: ... and those every row of one commit shares (the hot unit sends each once, not once per row)
OUTBOX_COMMIT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("created_at", "timestamptz"),
    ("available_at", "timestamptz"),
    ("attempts", "int"),
)


def history_row(
    entity_type: str,
    entity_id: int,
    from_status: str | None,
    to_status: str,
    actor: str,
    reason: str | None,
    at: datetime,
) -> dict[str, Any]:
    """One status change: who, when, from, to (actor and reason cut to their columns' sizes)."""
    return {
        "entity_type": entity_type,
        "entity_id": entity_id,
        "from_status": from_status,
        "to_status": to_status,
        "actor": actor[:96],
        "reason": reason[:500] if reason else None,
        "at": at,
    }


def outbox_event_values(event: DomainEvent) -> dict[str, Any]:
    """An event's own outbox columns: its type, its payload, and ``ordering_key`` (the relay keeps
    order per key)."""
    return {"event_type": event.name, "payload": event.payload(), "ordering_key": event.ordering_key}


def outbox_commit_values(now: datetime) -> dict[str, Any]:
    """The outbox columns shared by every event of one commit: deliverable at once, never tried."""
    return {"created_at": now, "available_at": now, "attempts": 0}


def outbox_rows(events: Sequence[DomainEvent], now: datetime) -> list[dict[str, Any]]:
    """The outbox rows for ``events``, in emission order (what the ORM unit inserts; the hot unit
    sends the same two parts column by column)."""
    shared = outbox_commit_values(now)
    return [{**outbox_event_values(event), **shared} for event in events]


class Changes:
    """History rows and events collected during a unit, written with its commit (by either unit)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.events: list[DomainEvent] = []
        self._history: list[dict[str, Any]] = []
        self.committed = False

    def _reset(self) -> None:
        self.events = []
        self._history = []
        self.committed = False

    def now(self) -> datetime:
        return self.clock.now()

    def emit(self, event: DomainEvent) -> None:
        self.events.append(event)

    def record_status(
        self,
        entity_type: str,
        entity_id: int,
        from_status: str | None,
        to_status: str,
        actor: str,
        reason: str | None = None,
    ) -> None:
        """Queue a history row; written with the commit (who, when, from, to)."""
        self._history.append(
            history_row(entity_type, entity_id, from_status, to_status, actor, reason, self.clock.now())
        )
