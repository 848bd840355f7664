"""The PostgreSQL connection pool serves waiting callers in arrival order (commerce_core.db.fair_pool)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from commerce_core.db.engine import create_engine, create_session_factory


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_orm_units_take_turns_for_a_full_pool(db_url: str) -> None:
    """Eight conversations, two transactions each, on two connections: nobody gets a second turn
    before everyone had a first. (With SQLAlchemy's own queue, a task that just gave a connection back
    takes it straight back, so conversations 0 and 1 would finish before 2..7 start.)"""
    engine = create_engine(db_url, pool_size=2, max_overflow=0)
    sessions = create_session_factory(engine)
    served: list[int] = []

    async def conversation(n: int) -> None:
        for _ in range(2):
            async with sessions() as session:
                await session.execute(text("SELECT 1"))
                served.append(n)
                await asyncio.sleep(0.02)

    try:
        tasks = []
        for n in range(8):
            tasks.append(asyncio.create_task(conversation(n)))
            await asyncio.sleep(0.001)
        await asyncio.gather(*tasks)
    finally:
        await engine.dispose()
    assert sorted(served[:8]) == list(range(8))
    assert sorted(served) == sorted(list(range(8)) * 2)


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_a_caller_cancelled_while_waiting_loses_no_connection(db_url: str) -> None:
    engine = create_engine(db_url, pool_size=1, max_overflow=0)
    sessions = create_session_factory(engine)
    release = asyncio.Event()

    async def holder() -> None:
        async with sessions() as session:
            await session.execute(text("SELECT 1"))
            await release.wait()

    async def waiter() -> None:
        async with sessions() as session:
            await session.execute(text("SELECT 1"))

    try:
        holding = asyncio.create_task(holder())
        await asyncio.sleep(0.05)
        waiting = asyncio.create_task(waiter())
        await asyncio.sleep(0.05)
        release.set()
        waiting.cancel()  # handed the connection, or not yet: either way it must come back
        await asyncio.gather(holding, waiting, return_exceptions=True)
        async with asyncio.timeout(5):  # the pool's one connection is still there
            async with sessions() as session:
                assert (await session.execute(text("SELECT 42"))).scalar() == 42
    finally:
        await engine.dispose()
