"""A connection-level unit of work for PostgreSQL hot paths: a pooled asyncpg connection, a plain
transaction, and prepared statements (see :mod:`commerce_core.db.fast.statements`).

Why: an AsyncSession-based unit costs ~300-400 µs of CPU before it runs a statement, and each Core
statement through it ~100 µs; placing and paying one order takes four units and ~20 statements.

Same guarantees as :class:`~commerce_core.uow.UnitOfWork`:

* one transaction per unit (READ COMMITTED, the server default the generic path also uses); leaving
  the block without ``commit()`` rolls back, and a connection whose rollback fails is discarded;
* history rows and outbox events are written in that transaction, just before COMMIT (here in one
  statement, both tables, in emission order, together with every ``write_later`` write: one data-
  modifying CTE, so a capture's payment, order and history rows cost one round trip, not four);
* ``BEGIN`` is sent lazily before the first statement that writes or locks (a SELECT whose CTE
  locks rows included: the lock must last to COMMIT). A plain SELECT before it runs on its own:
  under READ COMMITTED every statement takes a fresh snapshot anyway, so this changes no result and
  saves two round trips for units that only read (or give up after reading, like most buyers in a
  flash sale);
* ``single_statement`` units (one INSERT, nothing else) let that statement be its own transaction;
* admission is bounded: at most ``pool_size`` hot units hold a connection at once, the rest wait in
  arrival order (a FIFO semaphore). The pool's overflow stays free for the ORM units beside them,
  and the database is not handed more concurrent work than its cores can take (a pool of 40 gave
  ~450 orders/s on 2 cores, 16 ~600);
* a connection a unit ends with is parked for the next hot unit when nobody waits for the pool
  (:mod:`.parking`: no pool checkin/checkout, ~80 µs of CPU a unit), and goes back to the pool
  when unused for a moment;
* broken connections are discarded, never pooled again: a unit that ends with a connection-level
  error (or on a connection asyncpg already knows is closed) invalidates it, and a connection taken
  from the pool is checked for free (``is_closed``) and, after ``PING_AFTER_IDLE`` seconds unused,
  pinged (one round trip, rare on a busy pool): after a PostgreSQL restart the pool hands out live
  connections instead of failing turns for a second (issue 11, finding 9);
* there is no ORM session: the unit's type has no ``session`` attribute, and the code that runs on
  it is typed against :class:`~commerce_core.uow.Work`, so mypy rejects any use of the ORM here.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
import weakref
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Self

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import Dialect, Executable, Insert, Select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

from commerce_core.clock import Clock
from commerce_core.db.base import UTCDateTime
from commerce_core.db.fast import statements as fastpath
from commerce_core.db.fast.parking import parking_of
from commerce_core.db.journal import (
    HISTORY,
    HISTORY_COLUMNS,
    OUTBOX,
    OUTBOX_COMMIT_COLUMNS,
    OUTBOX_EVENT_COLUMNS,
    Changes,
    outbox_commit_values,
    outbox_event_values,
)

#: a pooled connection unused for this long is pinged before use (the server may have restarted)
PING_AFTER_IDLE = 2.0
_LAST_USED = "shopbot_fast_last_used"
_PLANS: weakref.WeakKeyDictionary[Dialect, fastpath.PlanCache] = weakref.WeakKeyDictionary()
_UTC = UTCDateTime()


def _unnest_insert(
    table: str, per_row: tuple[tuple[str, str], ...], shared: tuple[tuple[str, str], ...] = ()
) -> str:
    """``INSERT INTO table (...) SELECT ... FROM unnest($1::type[], ...)``: every row in one
    statement, one array per ``per_row`` column, then one value per ``shared`` column (the same in
    every row); WITH ORDINALITY keeps ids in the order the rows were given."""
    names = [name for name, _ in per_row]
    arrays = ", ".join(
        f"${n}::{'text' if kind == 'jsonb' else kind}[]" for n, (_, kind) in enumerate(per_row, start=1)
    )
    picked = [f"{name}::jsonb" if kind == "jsonb" else name for name, kind in per_row]
    picked += [f"${n}::{kind}" for n, (_, kind) in enumerate(shared, start=len(per_row) + 1)]
    columns = ", ".join(names + [name for name, _ in shared])
    return (
        f"INSERT INTO {table} ({columns}) SELECT {', '.join(picked)} "  # noqa: S608 (names from metadata)
        f"FROM unnest({arrays}) WITH ORDINALITY AS r({', '.join(names)}, n) ORDER BY n"
    )


#: history and outbox rows (built by :mod:`commerce_core.db.journal`) in one round trip
_WRITE_HISTORY = f"history AS ({_unnest_insert(HISTORY.name, HISTORY_COLUMNS)})"
_WRITE_OUTBOX = _unnest_insert(OUTBOX.name, OUTBOX_EVENT_COLUMNS, OUTBOX_COMMIT_COLUMNS)
_TIMESTAMPS = frozenset(
    name for name, kind in (*HISTORY_COLUMNS, *OUTBOX_COMMIT_COLUMNS) if kind == "timestamptz"
)
_PLACEHOLDER = re.compile(r"\$(\d+)")


@functools.lru_cache(maxsize=1024)
def _shifted(sql: str, offset: int) -> str:
    """``sql`` with its placeholders $1..$n renumbered from ``offset + 1`` (to join statements)."""
    return _PLACEHOLDER.sub(lambda m: f"${int(m.group(1)) + offset}", sql) if offset else sql


_GATES: weakref.WeakKeyDictionary[Any, tuple[asyncio.AbstractEventLoop, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary()
)


def _admission(engine: AsyncEngine) -> asyncio.Semaphore | None:
    """The engine's fair gate for hot units (per event loop), sized to the pool; None if unbounded."""
    pool = engine.sync_engine.pool
    size = getattr(pool, "size", None)
    if size is None:
        return None
    loop = asyncio.get_running_loop()
    found = _GATES.get(pool)
    if found is None or found[0] is not loop:
        found = _GATES[pool] = (loop, asyncio.Semaphore(max(1, size())))
    return found[1]


def supports(engine: AsyncEngine) -> bool:
    """True when the engine runs asyncpg on PostgreSQL (the only driver the fast path speaks)."""
    dialect = engine.dialect
    return dialect.name == "postgresql" and dialect.driver == "asyncpg"


def _plans(dialect: Dialect) -> fastpath.PlanCache:
    plans = _PLANS.get(dialect)
    if plans is None:
        plans = _PLANS[dialect] = fastpath.PlanCache(dialect)
    return plans


_CONVERTERS: weakref.WeakKeyDictionary[fastpath.PlanCache, dict[tuple[int, tuple[str, ...]], Any]] = (
    weakref.WeakKeyDictionary()
)


def _copy_converters(
    plans: fastpath.PlanCache, statement: Insert, columns: tuple[str, ...]
) -> tuple[tuple[int, Callable[[Any], Any]], ...]:
    """(position in a row, the bind processor the INSERT ``statement`` runs on that column), for the
    columns that have one, worked out once per statement and column list."""
    cache = _CONVERTERS.setdefault(plans, {})
    key = (id(statement), columns)
    found = cache.get(key)
    if found is not None and found[0] is statement:
        converters: tuple[tuple[int, Callable[[Any], Any]], ...] = found[1]
        return converters
    plan = plans.plan(statement, columns)
    by_name = dict(zip(plan.names, plan.processors, strict=True))
    converters = tuple((i, fn) for i, name in enumerate(columns) if (fn := by_name.get(name)) is not None)
    cache[key] = (statement, converters)
    return converters


class PgUnitOfWork(Changes):
    dialect_name = "postgresql"

    def __init__(self, engine: AsyncEngine, clock: Clock, *, single_statement: bool = False) -> None:
        super().__init__(clock)
        self._single_statement = single_statement
        self._statements = 0
        self._engine = engine
        self._plans = _plans(engine.dialect)
        self._fairy: PoolProxiedConnection | None = None
        self._driver: asyncpg.Connection | None = None
        self._in_transaction = False
        self._later: list[tuple[str, list[Any]]] = []
        self._admitted: asyncio.Semaphore | None = None

    async def __aenter__(self) -> Self:
        self._reset()
        self._later = []
        self._statements = 0
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self._give_back(exc)
        finally:
            admitted, self._admitted = self._admitted, None
            if admitted is not None:
                admitted.release()

    async def _give_back(self, exc: BaseException | None) -> None:
        fairy, driver = self._fairy, self._driver
        self._fairy = self._driver = None
        self._in_transaction = False
        if fairy is None or driver is None:
            return
        if driver.is_closed() or (exc is not None and fastpath.connection_lost(exc)):
            driver.terminate()
            await greenlet_spawn(fairy.invalidate)
            return
        try:
            if driver.is_in_transaction():
                await driver.execute("ROLLBACK")
        except BaseException:
            # unknown state (connection lost, or cancelled mid-rollback): never pool it again
            driver.terminate()
            await greenlet_spawn(fairy.invalidate)
            if exc is None:
                raise
            return  # the block's own exception is the one worth reporting
        fairy.info[_LAST_USED] = asyncio.get_running_loop().time()
        parking = parking_of(self._engine)
        if parking is None or not parking.park(fairy):
            await greenlet_spawn(fairy.close)

    async def _connection(self, begin: bool) -> asyncpg.Connection:
        driver = self._driver
        if driver is None:
            if self._fairy is not None or self._admitted is not None:
                raise RuntimeError("unit of work used outside 'async with'")
            gate = _admission(self._engine)
            if gate is not None:
                await gate.acquire()
                self._admitted = gate
            driver = self._driver = await self._live_connection()
        if begin and not self._in_transaction:
            await self._run_plain(driver, "BEGIN")
            self._in_transaction = True
        return driver

    async def _live_connection(self) -> asyncpg.Connection:
        """A pooled connection that is not known to be dead (one replacement at most, then it fails)."""
        parking = parking_of(self._engine)
        for attempt in range(2):
            parked = parking.take() if parking is not None and not attempt else None
            fairy = self._fairy = parked or await self._engine.raw_connection()
            driver = fairy.driver_connection
            assert isinstance(driver, asyncpg.Connection)
            now = asyncio.get_running_loop().time()
            idle = now - fairy.info.get(_LAST_USED, now)  # new, or last used by an ORM unit: not timed
            try:
                if driver.is_closed():
                    raise ConnectionResetError("connection closed while pooled")
                if idle > PING_AFTER_IDLE:
                    await driver.execute("SELECT 1")
                return driver
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
                self._fairy = None
                driver.terminate()
                await greenlet_spawn(fairy.invalidate)
                if attempt:
                    raise fastpath.translate(error, "SELECT 1", ()) from error
        raise AssertionError("unreachable")

    @staticmethod
    async def _run_plain(driver: asyncpg.Connection, sql: str) -> None:
        try:
            await driver.execute(sql)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
            raise fastpath.translate(error, sql, ()) from error

    async def execute(self, statement: Executable, parameters: Any = None) -> fastpath.Rows:
        """Run a Core statement in this unit (BEGIN first unless it is a plain SELECT)."""
        if self._single_statement:
            if self._statements:
                raise RuntimeError("a single-statement unit of work ran a second statement")
            reads_only = True  # its own implicit transaction: atomic on its own
        else:
            reads_only = (
                isinstance(statement, Select)
                and statement._for_update_arg is None
                and not fastpath.locks_rows(self._plans, statement, parameters)
            )
        self._statements += 1
        driver = await self._connection(begin=not reads_only)
        return await fastpath.run(driver, self._plans, statement, parameters)

    async def copy_rows(
        self, statement: Insert, columns: tuple[str, ...], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Write ``rows`` (values in ``columns`` order) into ``statement``'s table with one binary COPY.

        Why: a batch of many rows through a prepared INSERT (``executemany``) pays a Bind/Execute
        message and SQLAlchemy's per-row argument building for every row; COPY sends them all in one
        message stream, encoded by asyncpg's codecs in C. The values are what the INSERT ``statement``
        would bind (the same bind processors run: UTC timestamps, JSON text for ``jsonb``), so the rows
        stored are the same. Only in a ``single_statement`` unit: COPY is its own transaction.
        """
        if not self._single_statement:
            raise RuntimeError("copy_rows runs only in a single-statement unit of work")
        if self._statements:
            raise RuntimeError("a single-statement unit of work ran a second statement")
        if not rows:
            return
        self._statements += 1
        convert = _copy_converters(self._plans, statement, columns)
        records: Sequence[Sequence[Any]] = rows
        if convert:
            records = []
            for row in rows:
                values = list(row)
                for i, fn in convert:
                    if values[i] is not None:
                        values[i] = fn(values[i])
                records.append(values)
        driver = await self._connection(begin=False)
        table = statement.table
        try:
            await driver.copy_records_to_table(
                table.name, records=records, columns=columns, schema_name=getattr(table, "schema", None)
            )
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
            raise fastpath.translate(error, f"COPY {table.name}", ()) from error

    async def write_later(self, statement: Executable, parameters: Any = None) -> None:
        """Queue a write for the commit's single statement (see :meth:`Work.write_later`)."""
        if self._single_statement:
            raise RuntimeError("a single-statement unit of work cannot queue writes")
        for sql, args in fastpath.bound(self._plans, statement, parameters):
            if "'" in sql:  # placeholders are renumbered textually: no literal text may hide a "$"
                raise ValueError("write_later takes statements whose values are all bound")
            self._later.append((sql, args))

    async def flush(self) -> None:
        """Nothing is pending on a connection-level unit: every statement ran when executed."""

    async def commit(self) -> None:
        if self._single_statement and (self._history or self.events):
            raise RuntimeError("a single-statement unit of work cannot record history or events")
        if self._later or self._history or self.events:
            driver = await self._connection(begin=True)
            await self._write_changes(driver)
        if self._in_transaction:
            assert self._driver is not None
            await self._run_plain(self._driver, "COMMIT")
            self._in_transaction = False
        self.committed = True

    async def rollback(self) -> None:
        if self._in_transaction:
            assert self._driver is not None
            await self._run_plain(self._driver, "ROLLBACK")
            self._in_transaction = False
        self.events = []
        self._history = []
        self._later = []

    def _columns(self, rows: list[dict[str, Any]], columns: tuple[tuple[str, str], ...]) -> list[list[Any]]:
        """``rows`` as one array per column, values encoded as the ORM unit's INSERT would bind them
        (JSON text for ``jsonb``, UTC for timestamps)."""
        dialect = self._engine.dialect
        serialize = getattr(dialect, "_json_serializer", None) or json.dumps
        bind_utc = _UTC.process_bind_param
        return [
            [serialize(row[name]) for row in rows]
            if kind == "jsonb"
            else [bind_utc(row[name], dialect) for row in rows]
            if name in _TIMESTAMPS
            else [row[name] for row in rows]
            for name, kind in columns
        ]

    async def _write_changes(self, driver: asyncpg.Connection) -> None:
        """Queued writes, history rows and outbox events: one data-modifying statement."""
        parts: list[str] = []
        args: list[Any] = []
        for n, (sql, values) in enumerate(self._later):
            parts.append(f"w{n} AS ({_shifted(sql, len(args))})")
            args.extend(values)
        self._later = []
        main = "SELECT 1"
        if self._history or self.events:
            parts.append(_shifted(_WRITE_HISTORY, len(args)))
            args.extend(self._columns(self._history, HISTORY_COLUMNS))
            main = _shifted(_WRITE_OUTBOX, len(args))
            args.extend(self._columns([outbox_event_values(e) for e in self.events], OUTBOX_EVENT_COLUMNS))
            shared = self._columns([outbox_commit_values(self.clock.now())], OUTBOX_COMMIT_COLUMNS)
            args.extend([column[0] for column in shared])
        sql = f"WITH {', '.join(parts)} {main}"
        try:
            await driver.execute(sql, *args)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
            raise fastpath.translate(error, sql, args) from error
