"""The connection-level PostgreSQL unit of work used by checkout (commerce_core.db.fast.pg_unit)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from commerce_core.app import Commerce
from commerce_core.db.fast.pg_unit import PgUnitOfWork
from commerce_core.events import OrderCancelled
from commerce_core.orders.model import Order
from commerce_core.orders.types import LineRequest
from commerce_core.outbox.model import OutboxMessage
from commerce_core.status import StatusChange
from tests.commerce.factory import ADDRESS, build_shop


async def _counts(commerce: Commerce) -> tuple[int, int]:
    async with commerce.units.orm() as uow:
        history = await uow.session.scalar(select(func.count()).select_from(StatusChange))
        events = await uow.session.scalar(select(func.count()).select_from(OutboxMessage))
    return int(history or 0), int(events or 0)


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_hot_unit_commits_history_and_events_with_its_changes_or_nothing(commerce: Commerce) -> None:
    shop = await build_shop(commerce)
    order = await commerce.orders.place(shop.customer_id, ADDRESS, "k", items=[LineRequest("H1-BLK", 1)])
    before = await _counts(commerce)

    with pytest.raises(ZeroDivisionError):
        async with commerce.units.hot() as uow:
            assert isinstance(uow, PgUnitOfWork)
            await uow.execute(update(Order).where(Order.id == order.id).values(note="changed"))
            uow.record_status("order", order.id, "pending_payment", "pending_payment", "test")
            uow.emit(OrderCancelled(order.number, shop.customer_id, "test", 0))
            _ = 1 / 0
    assert await _counts(commerce) == before
    async with commerce.units.orm() as uow:
        assert await uow.session.scalar(select(Order.note).where(Order.id == order.id)) is None

    async with commerce.units.hot() as uow:
        await uow.execute(update(Order).where(Order.id == order.id).values(note="changed"))
        uow.record_status("order", order.id, "pending_payment", "pending_payment", "test", "why")
        uow.emit(OrderCancelled(order.number, shop.customer_id, "first", 0))
        uow.emit(OrderCancelled(order.number, shop.customer_id, "second", 0))
        await uow.commit()
    assert await _counts(commerce) == (before[0] + 1, before[1] + 2)
    async with commerce.units.orm() as uow:
        payloads = (
            await uow.session.scalars(
                select(OutboxMessage.payload).order_by(OutboxMessage.id.desc()).limit(2)
            )
        ).all()
        assert [p["reason"] for p in payloads] == ["second", "first"]  # emission order kept
        reason = await uow.session.scalar(select(StatusChange.reason).order_by(StatusChange.id.desc()))
        assert reason == "why"


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_hot_unit_gives_no_session_and_single_statement_units_stay_single(commerce: Commerce) -> None:
    async with commerce.units.hot() as uow:
        assert isinstance(uow, PgUnitOfWork)
        assert not hasattr(uow, "session")  # and mypy rejects uow.session on a Work
    async with commerce.units.hot(single_statement=True) as uow:
        await uow.execute(select(func.count()).select_from(Order))
        with pytest.raises(RuntimeError):
            await uow.execute(select(func.count()).select_from(Order))


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
async def test_writes_queued_for_the_commit_land_with_it_or_not_at_all(commerce: Commerce) -> None:
    shop = await build_shop(commerce)
    order = await commerce.orders.place(shop.customer_id, ADDRESS, "k", items=[LineRequest("H1-BLK", 1)])
    change_note = update(Order).where(Order.id == order.id).values(note="later")

    async def note() -> str | None:
        async with commerce.units.orm() as uow:
            return await uow.session.scalar(select(Order.note).where(Order.id == order.id))

    async with commerce.units.hot() as uow:
        await uow.write_later(change_note)
        uow.emit(OrderCancelled(order.number, shop.customer_id, "with the write", 0))
        # leaves without commit: the queued write and the event go nowhere
    assert await note() is None
    before = await _counts(commerce)

    async with commerce.units.hot() as uow:
        await uow.write_later(change_note)
        uow.emit(OrderCancelled(order.number, shop.customer_id, "with the write", 0))
        await uow.commit()
    assert await note() == "later"
    assert await _counts(commerce) == (before[0], before[1] + 1)


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_queued_writes_refuse_literal_text_they_could_not_renumber_safely(commerce: Commerce) -> None:
    from sqlalchemy import literal_column

    async with commerce.units.hot() as uow:
        with pytest.raises(ValueError, match="bound"):
            await uow.write_later(update(Order).values(note=literal_column("'$1'")))


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_hot_units_are_admitted_up_to_the_pool_size_in_arrival_order(db_url: str) -> None:
    """Eight shoppers, two units each, on a pool of two with two of overflow: never more than two
    hot units hold a connection (the overflow is left to ORM units), and nobody gets a second turn
    before everyone had a first."""
    import asyncio

    from sqlalchemy import text

    from commerce_core.clock import SystemClock
    from commerce_core.db.engine import create_engine, create_session_factory
    from commerce_core.uow import Units

    engine = create_engine(db_url, pool_size=2, max_overflow=2)
    sessions = create_session_factory(engine)
    holding = 0
    most = 0
    admitted: list[int] = []

    async def shopper(n: int) -> None:
        nonlocal holding, most
        for _ in range(2):
            async with Units(sessions, SystemClock()).hot() as uow:
                await uow.execute(text("SELECT 1"))
                holding += 1
                most = max(most, holding)
                admitted.append(n)
                await asyncio.sleep(0.02)
                holding -= 1

    try:
        # open both pooled connections first: a connect that is slow on a loaded machine would otherwise
        # let a later shopper overtake one still connecting, which says nothing about admission
        async with engine.connect() as first, engine.connect() as second:
            await first.execute(text("SELECT 1"))
            await second.execute(text("SELECT 1"))
        tasks = []
        for n in range(8):
            tasks.append(asyncio.create_task(shopper(n)))
            await asyncio.sleep(0.001)  # a known arrival order
        await asyncio.gather(*tasks)
    finally:
        await engine.dispose()
    assert most == 2
    assert sorted(admitted[:8]) == list(range(8))  # nobody has a second turn before all had a first
