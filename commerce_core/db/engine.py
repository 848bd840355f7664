"""Engines for the two supported databases.

SQLite (the embedded default) gets WAL, a busy timeout, foreign keys, and ``BEGIN IMMEDIATE`` so
concurrent writers queue instead of failing on a lock upgrade; PostgreSQL gets a pool sized for one
async process. Nothing here runs at import time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession

from commerce_core.db.fair_pool import FairAsyncQueuePool


def create_engine(url: str, *, echo: bool = False, pool_size: int = 8, max_overflow: int = 4) -> AsyncEngine:
    """Create the async engine for ``url`` (``sqlite+aiosqlite:///...`` or ``postgresql+asyncpg://...``).

    Why so few: more connections than a few per database core only add context switches and lock
    traffic on the server. Measured on 2 cores (``bench/checkout.py``, ``bench/turns.py``): a pool of
    40 gave ~450 orders/s, 16 + 16 overflow ~600 orders/s and ~340 turns/s at 100 conversations,
    8 + 4 ~700 orders/s and ~450 turns/s. Waiting callers are served in arrival order (see
    ``fair_pool``); hot units queue for ``pool_size`` connections (see ``fast.pg_unit``), the overflow
    is headroom for the ORM units beside them and for a unit opened while another is held.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    return create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=max_overflow,
        # no pre-ping: it costs a round trip per unit of work; a dropped connection raises a
        # disconnect error, the pool is invalidated and the next unit of work reconnects
        pool_pre_ping=False,
        pool_recycle=1800,
        poolclass=FairAsyncQueuePool,
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # let SQLAlchemy emit BEGIN itself (below) instead of the driver's implicit deferred BEGIN
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"
