"""The unit of work: one database transaction, the events it raised, and the outbox rows for them.

Usage::

    async with uow_factory() as uow:
        ... change aggregates through uow.session ...
        uow.emit(OrderPlaced(...))
        await uow.commit()          # changes + outbox rows, atomically

Leaving the block without ``commit()`` rolls everything back, events included.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Executable, Result, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from commerce_core.clock import Clock
from commerce_core.db.base import table_of
from commerce_core.events import DomainEvent
from commerce_core.outbox.model import OutboxMessage
from commerce_core.status import StatusChange


class UnitOfWork:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self.clock = clock
        self._session: AsyncSession | None = None
        self.events: list[DomainEvent] = []
        self._history: list[dict[str, object]] = []
        self.committed = False

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._session

    async def __aenter__(self) -> Self:
        self._session = self._sessions()
        self.events = []
        self._history = []
        self.committed = False
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._session is not None
        # close() rolls back anything uncommitted and detaches objects WITHOUT expiring them, so read
        # models built inside the block stay usable after it
        await self._session.close()
        self._session = None

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
            {
                "entity_type": entity_type,
                "entity_id": entity_id,
                "from_status": from_status,
                "to_status": to_status,
                "actor": actor[:96],
                "reason": reason[:500] if reason else None,
                "at": self.clock.now(),
            }
        )

    async def execute(self, statement: Executable, parameters: Any = None) -> Result[Any]:
        """Run a Core statement on this unit's connection and transaction, skipping the ORM layer.

        Hot paths (placing and paying orders) use this: the ORM's per-statement bookkeeping costs
        more than the database round trip.
        """
        connection = await self.session.connection()
        return await connection.execute(statement, parameters)

    async def flush(self) -> None:
        await self.session.flush()

    async def commit(self) -> None:
        session = self.session
        now = self.clock.now()
        if self._history:
            await self.execute(insert(table_of(StatusChange)), self._history)
        if self.events:
            await self.execute(
                insert(table_of(OutboxMessage)),
                [
                    {
                        "event_type": e.name,
                        "payload": e.payload(),
                        "created_at": now,
                        "available_at": now,
                        "attempts": 0,
                    }
                    for e in self.events
                ],
            )
        await session.commit()
        self.committed = True

    async def rollback(self) -> None:
        await self.session.rollback()
        self.events = []
        self._history = []


UnitOfWorkFactory = Callable[[], UnitOfWork]
