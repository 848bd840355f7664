"""The PostgreSQL connection pool serves waiting callers in arrival order (commerce_core.db.fair_pool),
and hot units park their connections between units without starving anyone (commerce_core.db.fast.parking)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, literal, select, text

from commerce_core.clock import SystemClock
from commerce_core.db.engine import create_engine, create_session_factory
from commerce_core.db.fast import parking
from commerce_core.uow import Units


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


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_hot_units_reuse_a_parked_connection_and_give_it_back_when_idle(db_url: str) -> None:
    """Back-to-back hot units share one connection without a pool checkout each; it counts as not in
    use meanwhile, and goes back to the pool once unused (fast.parking)."""
    engine = create_engine(db_url, pool_size=2, max_overflow=0)
    pool = engine.sync_engine.pool
    checkouts = 0

    def counted(*_: object) -> None:
        nonlocal checkouts
        checkouts += 1

    event.listen(pool, "checkout", counted)
    units = Units(create_session_factory(engine), SystemClock())
    try:
        for _ in range(20):
            async with units.hot() as uow:
                assert (await uow.execute(select(literal(7)))).scalar() == 7
        assert checkouts == 1
        assert pool.checkedout() == 0  # parked: idle, not in use
        await asyncio.sleep(parking.IDLE_RETURN * 3)
        assert pool.checkedin() == 1  # back in the pool after the idle time
    finally:
        await engine.dispose()


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_an_orm_unit_waiting_for_the_pool_gets_the_connection_a_hot_unit_ends_with(db_url: str) -> None:
    """A parked connection must not starve anyone queued at the pool: with one connection, an ORM
    unit that waits while a hot unit holds it gets it as soon as the hot unit ends."""
    engine = create_engine(db_url, pool_size=1, max_overflow=0)
    sessions = create_session_factory(engine)
    units = Units(sessions, SystemClock())
    try:
        async with units.hot() as uow:
            await uow.execute(select(literal(1)))
        entered = asyncio.Event()

        async def orm_unit() -> int:
            entered.set()
            async with sessions() as session:
                return int((await session.execute(text("SELECT 42"))).scalar_one())

        async with units.hot() as uow:
            await uow.execute(select(literal(1)))
            waiting = asyncio.create_task(orm_unit())
            await entered.wait()
            await asyncio.sleep(0.05)  # queued at the pool now
        async with asyncio.timeout(parking.IDLE_RETURN / 2):  # not after the idle sweep: at once
            assert await waiting == 42
    finally:
        await engine.dispose()


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_disposing_the_engine_closes_parked_connections(db_url: str) -> None:
    engine = create_engine(db_url, pool_size=2, max_overflow=0)
    units = Units(create_session_factory(engine), SystemClock())
    async with units.hot() as uow:
        await uow.execute(select(literal(1)))
    parked = parking.parking_of(engine)
    assert parked is not None
    fairy = parked.take()
    assert fairy is not None
    driver = fairy.driver_connection
    assert not driver.is_closed()
    assert parked.park(fairy)
    await engine.dispose()
    assert driver.is_closed()
