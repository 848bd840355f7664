"""The fast path never hands out a connection the server has ended (after a PostgreSQL restart every
pooled connection is dead): it is noticed on checkout and replaced, and a unit that failed on one
throws it away instead of pooling it again."""

from __future__ import annotations

import asyncio

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import func, select, text

from commerce_core.api import SystemClock, create_engine, is_connection_lost
from commerce_core.db.fast.pg_unit import PgUnitOfWork
from commerce_core.db.fast.statements import translate

BACKEND = select(func.pg_backend_pid())


async def backend_of(unit: PgUnitOfWork) -> int:
    return int((await unit.execute(BACKEND)).all()[0][0])


async def end_backend(url: str, pid: int) -> None:
    admin = create_engine(url)
    async with admin.connect() as conn:
        await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    await admin.dispose()


async def test_a_connection_the_server_ended_is_replaced_on_checkout(postgres_url: str) -> None:
    engine = create_engine(postgres_url, pool_size=1, max_overflow=0)
    try:
        async with PgUnitOfWork(engine, SystemClock()) as unit:
            first = await backend_of(unit)
        await end_backend(postgres_url, first)  # as a PostgreSQL restart does to every connection
        await asyncio.sleep(0.3)
        async with PgUnitOfWork(engine, SystemClock()) as unit:
            second = await backend_of(unit)  # no error: the dead one was dropped, a new one made
        assert second != first
    finally:
        await engine.dispose()


async def test_a_unit_that_hit_a_dead_connection_discards_it(postgres_url: str) -> None:
    engine = create_engine(postgres_url, pool_size=1, max_overflow=0)
    try:
        async with PgUnitOfWork(engine, SystemClock()) as unit:
            pid = await backend_of(unit)
        with pytest.raises(Exception):  # noqa: B017 - asyncpg reports a killed backend several ways
            async with PgUnitOfWork(engine, SystemClock()) as unit:
                await unit.execute(select(func.now()))
                await end_backend(postgres_url, pid)  # the server goes away mid-unit
                await unit.execute(select(func.pg_sleep(0.2)))
        async with PgUnitOfWork(engine, SystemClock()) as unit:
            assert await backend_of(unit) != pid
    finally:
        await engine.dispose()


def test_errors_of_an_ended_connection_are_recognised_for_the_retry() -> None:
    ended = translate(asyncpg.AdminShutdownError("terminating connection"), "SELECT 1", ())
    assert is_connection_lost(ended) and is_connection_lost(ConnectionResetError())
    assert not is_connection_lost(translate(asyncpg.UniqueViolationError("dup"), "INSERT", ()))
    assert not is_connection_lost(ValueError("a bug"))
