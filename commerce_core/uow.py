"""Units of work: one database transaction, the events it raised, and the outbox rows for them.

Usage::

    async with units.orm() as uow:          # or units.hot(): the call site says which kind
        ... change aggregates through uow.session ...
        uow.emit(OrderPlaced(...))
        await uow.commit()          # changes + history + outbox rows, atomically

Leaving the block without ``commit()`` rolls everything back, events included.

Two kinds of unit, chosen by name at each call site through :class:`Units` (see
:mod:`commerce_core.db.fast` for when to use which):

* ``units.hot()``: a :class:`Work`, the ORM-free interface (Core statements built once, no
  ``session``; mypy refuses ``uow.session`` on it). On PostgreSQL with asyncpg it is a
  :class:`~commerce_core.db.fast.pg_unit.PgUnitOfWork` (a pooled driver connection, prepared
  statements), elsewhere an ORM unit seen through the same narrow interface.
* ``units.orm()``: a :class:`UnitOfWork` with an ``AsyncSession``, for everything that is not hot.

Both write history and outbox rows through :mod:`commerce_core.db.journal`, the one writer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

from sqlalchemy import Executable, Result, insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from commerce_core.clock import Clock
from commerce_core.db import journal
from commerce_core.db.fast import pg_unit
from commerce_core.events import DomainEvent


class ScalarRows(Protocol):
    def all(self) -> Sequence[Any]: ...


class Rows(Protocol):
    """What hot paths read from a statement's result (a Result, or the fast path's rows)."""

    def first(self) -> Any: ...

    def scalar(self) -> Any: ...

    def all(self) -> Sequence[Any]: ...

    def scalars(self) -> ScalarRows: ...


class Work(Protocol):
    """The ORM-free interface of a unit of work that hot paths are written against.

    It has no ``session``: code typed against it runs on either kind of unit, and mypy stops any
    use of the ORM on a hot path.
    """

    clock: Clock
    events: list[DomainEvent]

    @property
    def dialect_name(self) -> str: ...

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


class UnitOfWork(journal.Changes):
    """The ORM unit: an ``AsyncSession`` and its transaction (also usable as a :class:`Work`)."""

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
        if self._history:
            await self.execute(insert(journal.HISTORY), self._history)
        if self.events:
            await self.execute(insert(journal.OUTBOX), journal.outbox_rows(self.events, self.clock.now()))
        await session.commit()
        self.committed = True

    async def rollback(self) -> None:
        await self.session.rollback()
        self.events = []
        self._history = []


class Units:
    """Where services get their units of work, by name, so each call site says which kind it runs:
    :meth:`hot` (ORM-free, prepared statements on PostgreSQL) or :meth:`orm` (an ``AsyncSession``).
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock
        bind = sessions.kw["bind"]
        assert isinstance(bind, AsyncEngine)
        self.engine = bind
        self._fast = pg_unit.supports(bind)

    def orm(self) -> UnitOfWork:
        """A unit with the ORM session: the default for everything that is not a hot path."""
        return UnitOfWork(self.sessions, self.clock)

    def hot(self, *, single_statement: bool = False) -> Work:
        """The cheapest unit for a hot path: a :class:`~commerce_core.db.fast.pg_unit.PgUnitOfWork`
        on PostgreSQL (asyncpg), else an ORM unit behind the same session-less interface.

        ``single_statement``: the unit runs exactly one statement and records no history or events,
        so on PostgreSQL that statement is its own transaction (no BEGIN/COMMIT round trips).
        """
        if not self._fast:
            return UnitOfWork(self.sessions, self.clock)
        return pg_unit.PgUnitOfWork(self.engine, self.clock, single_statement=single_statement)
