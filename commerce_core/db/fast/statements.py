"""Core statements run as prepared statements on the raw asyncpg connection (PostgreSQL hot paths).

Why: through ``AsyncConnection.execute`` a Core statement costs ~100 µs of CPU (greenlet switch, cache
key, execution context, result metadata); the same statement on the driver connection costs ~40 µs.
Checkout runs ~20 statements per order, so this is most of the per-order CPU.

What stays the same: the statements are the services' own SQLAlchemy Core constructs, compiled ONCE
by the engine's own dialect (same SQL, same bind casts, same bind and result processors as the
generic path), then executed with asyncpg's prepared-statement cache. Plans are cached per statement
object, so hot paths must build their statements once (module level, with ``bindparam``); a statement
built per call still works, it is just compiled every time.

Database errors are translated to the SQLAlchemy exception classes the services already catch
(``IntegrityError`` for constraint violations, ``DBAPIError`` otherwise).
"""

from __future__ import annotations

import collections
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import Dialect, Executable, exc
from sqlalchemy.sql import sqltypes
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

_MAX_PLANS = 512
#: a row-locking clause in compiled SQL (keywords are rendered upper case; values are all bound)
_LOCKING = re.compile(r"\bFOR (?:NO KEY UPDATE|UPDATE|KEY SHARE|SHARE)\b")
#: namedtuple with field names known only at run time (typed loosely on purpose)
_ROW_FACTORY: Any = collections.namedtuple


class Rows:
    """The slice of :class:`sqlalchemy.Result` the hot paths use, over already fetched rows."""

    __slots__ = ("_rows",)

    def __init__(self, rows: list[Any]) -> None:
        self._rows = rows

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def all(self) -> list[Any]:
        return self._rows

    def scalars(self) -> Scalars:
        return Scalars([row[0] for row in self._rows])


class Scalars:
    __slots__ = ("_values",)

    def __init__(self, values: list[Any]) -> None:
        self._values = values

    def all(self) -> list[Any]:
        return self._values


@dataclass(frozen=True, slots=True)
class _Plan:
    statement: Any  # kept referenced so its id() cannot be reused while the plan is cached
    compiled: SQLCompiler
    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    expanding: bool
    row_type: type[tuple[Any, ...]] | None
    result_processors: tuple[Callable[[Any], Any] | None, ...]
    #: the statement takes row locks somewhere (its own FOR UPDATE, or one of its CTEs')
    locks: bool
    #: values of the binds the statement carries itself (a literal such as ``status == "active"``
    #: compiles to a bind holding "active"), by name: used when the parameters do not name them
    constants: Mapping[str, Any]


class PlanCache:
    """Compiled plans of hot statements, per dialect (one per engine)."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._plans: collections.OrderedDict[tuple[int, tuple[str, ...]], _Plan] = collections.OrderedDict()

    def plan(self, statement: Executable, keys: tuple[str, ...]) -> _Plan:
        cache_key = (id(statement), keys)
        found = self._plans.get(cache_key)
        if found is not None and found.statement is statement:
            return found
        plan = self._compile(statement, keys)
        self._plans[cache_key] = plan
        if len(self._plans) > _MAX_PLANS:
            self._plans.popitem(last=False)
        return plan

    def _compile(self, statement: Executable, keys: tuple[str, ...]) -> _Plan:
        assert isinstance(statement, ClauseElement)
        # the same column keys SQLAlchemy's own execution compiles with (sorted parameter names)
        compiled = statement.compile(dialect=self.dialect, column_keys=sorted(keys))
        assert isinstance(compiled, SQLCompiler)
        expanding = bool(compiled.post_compile_params or compiled.literal_execute_params)
        names = tuple(compiled.positiontup or ())
        bind = compiled._bind_processors
        row_type: type[tuple[Any, ...]] | None = None
        result_processors: tuple[Callable[[Any], Any] | None, ...] = ()
        columns = compiled._result_columns
        if columns:
            # rows answer by attribute, index and unpacking, like SQLAlchemy's Row
            row_type = _ROW_FACTORY("Row", [c.keyname for c in columns], rename=True)
            result_processors = tuple(_result_processor(c.type, self.dialect) for c in columns)
        return _Plan(
            statement,
            compiled,
            compiled.string,
            names,
            tuple(_single(bind.get(n)) for n in names),
            expanding,
            row_type,
            result_processors,
            bool(_LOCKING.search(compiled.string)),
            _constants(compiled, names),
        )


def _constants(compiled: SQLCompiler, names: tuple[str, ...]) -> Mapping[str, Any]:
    """The plain values of the binds that have one (not required, no callable), by name: what
    ``construct_params`` would fill in for them when the parameters leave them out. Binds of
    column defaults worked out per execution (``insert_prefetch``/``update_prefetch``) are not
    constants: a plan with one left out keeps going the general way."""
    computed = {column.key for column in (*compiled.insert_prefetch, *compiled.update_prefetch)}
    constants = {}
    for name in names:
        bind = compiled.binds.get(name)
        if bind is not None and not bind.required and bind.callable is None and name not in computed:
            constants[name] = bind.value
    return constants


def _result_processor(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """The column type's result processor. Numeric types ask for the driver's type code, which a
    prepared plan does not have; asyncpg already returns their values as Python numbers."""
    if isinstance(type_, sqltypes.NumericCommon):
        return None
    processor: Callable[[Any], Any] | None = type_._cached_result_processor(dialect, None)
    return processor


def _single(processor: Any) -> Callable[[Any], Any] | None:
    """A bind processor (SQLAlchemy types it loosely; for a plain bind it is one callable or None)."""
    return processor if callable(processor) else None


def _arguments(plan: _Plan, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """The SQL and positional arguments of one parameter set.

    When every bind of the plan is a key of ``params`` or holds its own value (the usual prebuilt
    statement with ``bindparam`` and literals, or an insert given all its values) the values are
    taken directly and the same bind processors run: SQLAlchemy's ``construct_params`` costs ~10 µs
    a call (it resolves every bind, defaults included), and a shopper turn runs several statements.
    Anything else (column defaults computed per row, expanding IN) goes the general way
    (:func:`_general_arguments`)."""
    if not plan.expanding and all(name in params or name in plan.constants for name in plan.names):
        return plan.sql, _direct(plan, params)
    return _general_arguments(plan, params)


def _direct(plan: _Plan, params: Mapping[str, Any]) -> list[Any]:
    """The arguments of a parameter set that names every bind the statement does not carry itself
    (a value given for such a bind wins over the statement's own, as in ``construct_params``)."""
    if plan.constants:
        params = {**plan.constants, **params}
    return [
        fn(params[name]) if fn is not None and params[name] is not None else params[name]
        for name, fn in zip(plan.names, plan.processors, strict=True)
    ]


def _general_arguments(plan: _Plan, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """Through SQLAlchemy's own parameter construction (what the generic execution path binds)."""
    if plan.expanding:
        state = plan.compiled.construct_expanded_state(params)
        processors = state.processors
        values = state.parameters
        args = []
        for name in state.positiontup or ():
            fn = _single(processors.get(name))
            value = values[name]
            args.append(fn(value) if fn is not None and value is not None else value)
        return state.statement, args
    values = plan.compiled.construct_params(params)
    args = []
    for name, fn in zip(plan.names, plan.processors, strict=True):
        value = values[name]
        args.append(fn(value) if fn is not None and value is not None else value)
    return plan.sql, args


def _many_arguments(plan: _Plan, sets: list[Mapping[str, Any]]) -> tuple[str, list[list[Any]]]:
    """The positional arguments of a batch (same keys in every set): each row as :func:`_arguments`
    takes it (directly when the rows carry every bind, else the general way)."""
    if plan.expanding or not all(name in sets[0] or name in plan.constants for name in plan.names):
        calls = [_general_arguments(plan, p) for p in sets]
        return calls[0][0], [args for _, args in calls]
    return plan.sql, [_direct(plan, row) for row in sets]


def locks_rows(plans: PlanCache, statement: Executable, parameters: Any = None) -> bool:
    """True when ``statement`` takes row locks anywhere, in a CTE included (a SELECT whose CTE locks
    the rows it then writes from needs a transaction around it, like SELECT ... FOR UPDATE)."""
    first = parameters[0] if isinstance(parameters, list) and parameters else parameters
    return plans.plan(statement, tuple(first or {})).locks


def bound(plans: PlanCache, statement: Executable, parameters: Any = None) -> list[tuple[str, list[Any]]]:
    """The SQL and positional arguments :func:`run` would send, one pair per parameter set."""
    sets = parameters if isinstance(parameters, list) else [parameters or {}]
    return [_arguments(plans.plan(statement, tuple(p)), p) for p in sets]


def _rows(plan: _Plan, records: list[asyncpg.Record]) -> Rows:
    if plan.row_type is None:
        return Rows([])
    row_type, processors = plan.row_type, plan.result_processors
    if not any(processors):
        return Rows([row_type(*record) for record in records])
    return Rows(
        [
            row_type(*(fn(v) if fn is not None else v for fn, v in zip(processors, record, strict=True)))
            for record in records
        ]
    )


#: server errors that mean "this connection is finished" (shutdown, crash recovery, too many clients)
_CONNECTION_ENDED = (
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,
    asyncpg.CannotConnectNowError,
)


def translate(error: Exception, sql: str, args: Sequence[Any]) -> exc.DBAPIError:
    """The SQLAlchemy exception the generic path would raise for this asyncpg error."""
    if isinstance(error, asyncpg.IntegrityConstraintViolationError):
        return exc.IntegrityError(sql, list(args), error)
    if isinstance(error, _CONNECTION_ENDED):
        return exc.OperationalError(sql, list(args), error, connection_invalidated=True)
    if isinstance(error, asyncpg.PostgresError):
        return exc.DBAPIError(sql, list(args), error)
    return exc.OperationalError(sql, list(args), error, connection_invalidated=True)


async def run(
    connection: asyncpg.Connection, plans: PlanCache, statement: Executable, parameters: Any = None
) -> Rows:
    """Execute ``statement`` with ``parameters`` (a dict, or a list of dicts) on ``connection``."""
    if isinstance(parameters, list):
        if not parameters:
            return Rows([])
        if len(parameters) > 1:
            plan = plans.plan(statement, tuple(parameters[0]))
            if plan.row_type is None:
                sql, rows = _many_arguments(plan, parameters)
                try:
                    await connection.executemany(sql, rows)
                except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
                    raise translate(error, sql, []) from error
                return Rows([])
            # RETURNING many rows in parameter order: one statement per row, in order
            collected: list[Any] = []
            for p in parameters:
                collected.extend((await run(connection, plans, statement, p)).all())
            return Rows(collected)
        parameters = parameters[0]
    params: Mapping[str, Any] = parameters or {}
    plan = plans.plan(statement, tuple(params))
    sql, args = _arguments(plan, params)
    try:
        records = await connection.fetch(sql, *args)
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
        raise translate(error, sql, args) from error
    return _rows(plan, records)


def connection_lost(error: BaseException) -> bool:
    """True when ``error`` (or what caused it) says the database connection broke, not the request:
    the work can be tried again on a fresh connection."""
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < 8:
        if isinstance(current, exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, (asyncpg.InterfaceError, *_CONNECTION_ENDED, ConnectionError)):
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False
