"""The unit of work: one database transaction, the events it raised, and the outbox rows for them.

Usage::

    async with uow_factory() as uow:
        ... change aggregates through uow.session ...
        uow.emit(OrderPlaced(...))
        await uow.commit()          # changes + outbox rows, atomically

Leaving the block without ``commit()`` rolls everything back, events included.

Hot paths (placing and paying orders, and what every shopping conversation reads and writes:
search, product pages, the cart, addresses, first contact, order status) are written against
:class:`Work`, the ORM-free part of a unit, with statements built once, and open
``uow_factory().hot()``: on PostgreSQL that is a :class:`PgUnitOfWork` (a pooled
asyncpg connection and a plain transaction, see ``commerce_core.db.pg_unit``), elsewhere the unit
itself. The same service code, statements, lock order and events run on both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

from sqlalchemy import Executable, Result, insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from commerce_core.clock import Clock
from commerce_core.db.base import table_of
from commerce_core.events import DomainEvent
from commerce_core.outbox.model import OutboxMessage
from commerce_core.status import StatusChange


class NeedsSession(RuntimeError):
    """A connection-level unit was asked for the ORM session (a rare branch of a hot path).

    Raised before anything is committed; the unit rolls back and the caller reruns the whole
    operation on a full :class:`UnitOfWork`, which re-reads and re-decides everything.
    """


class ScalarRows(Protocol):
    def all(self) -> Sequence[Any]: ...


class Rows(Protocol):
    """What hot paths read from a statement's result (a Result, or the fast path's rows)."""

    def first(self) -> Any: ...

    def scalar(self) -> Any: ...

    def all(self) -> Sequence[Any]: ...

    def scalars(self) -> ScalarRows: ...


class Changes:
    """History rows and events collected during a unit, written with its commit."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.events: list[DomainEvent] = []
        self._history: list[dict[str, object]] = []
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


class Work(Protocol):
    """The ORM-free interface of a unit of work that hot paths are written against."""

    clock: Clock
    events: list[DomainEvent]

    @property
    def dialect_name(self) -> str: ...

    @property
    def session(self) -> AsyncSession: ...

    def now(self) -> datetime: ...

    def emit(self, event: DomainEvent) -> None: ...

    def record_status(
        self,
        entity_type: str,
        entity_id: int,
        from_status: str | None,
        to_status: str,
        actor: str,
        reason: str | None = None,
    ) -> None: ...

    async def execute(self, statement: Executable, parameters: Any = None) -> Rows: ...

    async def write_later(self, statement: Executable, parameters: Any = None) -> None:
        """Run a write whose result nobody reads, at the latest with the commit.

        The caller promises that nothing later in the unit reads what the write changes, and that it
        touches only rows this unit created or already holds locked, or rows it would lock last
        anyway (so the moment it runs changes neither results nor lock order). Queued writes run in
        no particular order among themselves: no two may touch the same row. A full unit runs the
        write at once; the PostgreSQL unit sends all of them, with the history and outbox rows, in
        one statement at commit.
        """
        ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class UnitOfWork(Changes):
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        super().__init__(clock)
        self._sessions = sessions
        self._session: AsyncSession | None = None

    @property
    def engine(self) -> AsyncEngine:
        bind = self._sessions.kw["bind"]
        assert isinstance(bind, AsyncEngine)
        return bind

    @property
    def dialect_name(self) -> str:
        return self.engine.dialect.name

    def hot(self, *, single_statement: bool = False) -> Work:
        """The cheapest unit for a hot path: a :class:`PgUnitOfWork` on PostgreSQL, else this unit.

        ``single_statement``: the unit runs exactly one statement and records no history or events,
        so on PostgreSQL that statement is its own transaction (no BEGIN/COMMIT round trips).
        """
        from commerce_core.db.pg_unit import PgUnitOfWork, supports

        engine = self.engine
        if not supports(engine):
            return self
        return PgUnitOfWork(engine, self.clock, single_statement=single_statement)

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._session

    async def __aenter__(self) -> Self:
        self._session = self._sessions()
        self._reset()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._session is not None
        # close() rolls back anything uncommitted and detaches objects WITHOUT expiring them, so read
        # models built inside the block stay usable after it
        await self._session.close()
        self._session = None

    async def execute(self, statement: Executable, parameters: Any = None) -> Result[Any]:
        """Run a Core statement on this unit's connection and transaction, skipping the ORM layer.

        Hot paths use this: the ORM's per-statement bookkeeping costs
        more than the database round trip.
        """
        connection = await self.session.connection()
        return await connection.execute(statement, parameters)

    async def write_later(self, statement: Executable, parameters: Any = None) -> None:
        """See :meth:`Work.write_later`; here it simply runs now."""
        await self.execute(statement, parameters)

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
                        "ordering_key": e.ordering_key,
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
