"""One writer for history and outbox rows: both kinds of unit leave exactly the same rows behind.

Regression for issue 10 (the outbox write existed twice, once per unit): a subscriber must not see a
different message depending on whether an order went through the hot unit or the ORM unit.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from commerce_core.app import Commerce
from commerce_core.clock import FakeClock
from commerce_core.db.fast.pg_unit import PgUnitOfWork
from commerce_core.events import OrderCancelled, ProductStatusChanged
from commerce_core.outbox.model import OutboxMessage
from commerce_core.status import StatusChange
from commerce_core.uow import UnitOfWork, Work


async def _write(unit: Work, marker: str) -> None:
    async with unit as uow:
        uow.record_status("order", 7, "paid", "cancelled", "customer:42", marker)
        uow.emit(OrderCancelled("SB0000000007", 42, marker, 1990))
        uow.emit(ProductStatusChanged("D1", 3, "live", "delisted", None))  # no ordering key
        await uow.commit()


async def _rows(commerce: Commerce, marker: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    async with commerce.units.orm() as uow:
        history = (
            await uow.session.execute(
                select(
                    StatusChange.entity_type,
                    StatusChange.entity_id,
                    StatusChange.from_status,
                    StatusChange.to_status,
                    StatusChange.actor,
                    StatusChange.at,
                ).where(StatusChange.reason == marker)
            )
        ).all()
        outbox = (await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    assert outbox[0].payload["reason"] == marker
    return [tuple(h) for h in history], [
        (
            m.event_type,
            {k: v for k, v in m.payload.items() if k != "reason"},
            m.ordering_key,
            m.attempts,
            m.created_at,
            m.available_at,
            m.sent_at,
        )
        for m in outbox
    ]


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
async def test_hot_and_orm_units_write_the_same_history_and_outbox_rows(
    commerce: Commerce, clock: FakeClock, db_url: str
) -> None:
    hot = commerce.units.hot()
    assert isinstance(hot, PgUnitOfWork if db_url.startswith("postgresql") else UnitOfWork)
    await _write(hot, "hot")
    hot_rows = await _rows(commerce, "hot")
    async with commerce.units.orm() as uow:  # clear the outbox between the two writes
        for message in (await uow.session.scalars(select(OutboxMessage))).all():
            await uow.session.delete(message)
        await uow.commit()
    await _write(commerce.units.orm(), "orm")
    orm_rows = await _rows(commerce, "orm")

    assert hot_rows == orm_rows
    history, outbox = orm_rows
    assert history == [("order", 7, "paid", "cancelled", "customer:42", clock.now())]
    assert [(event, key) for event, _, key, *_ in outbox] == [
        ("OrderCancelled", "customer:42"),
        ("ProductStatusChanged", None),
    ]
    assert all(row[3:] == (0, clock.now(), clock.now(), None) for row in outbox)
