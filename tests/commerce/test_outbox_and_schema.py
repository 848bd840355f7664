"""Outbox atomicity and relay; migrations have one head and build the same schema everywhere."""

from __future__ import annotations

import pytest
from sqlalchemy import func, inspect, select

from commerce_core.app import Commerce
from commerce_core.clock import FakeClock
from commerce_core.db.migrate import heads
from commerce_core.db.models import metadata
from commerce_core.errors import OutOfStock
from commerce_core.orders.types import LineRequest
from commerce_core.outbox.model import OutboxMessage
from commerce_core.outbox.relay import OutboxEnvelope, pending_count, relay_once
from tests.commerce.factory import ADDRESS, build_shop


async def event_types(commerce: Commerce) -> list[str]:
    async with commerce.units.orm() as uow:
        return list(
            (await uow.session.scalars(select(OutboxMessage.event_type).order_by(OutboxMessage.id))).all()
        )


async def test_events_are_written_with_their_change_and_only_then(commerce: Commerce) -> None:
    shop = await build_shop(commerce, stock=1)
    before = await event_types(commerce)
    with pytest.raises(OutOfStock):
        await commerce.orders.place(shop.customer_id, ADDRESS, "k", items=[LineRequest("H1-BLK", 2)])
    assert await event_types(commerce) == before
    order = await commerce.orders.place(shop.customer_id, ADDRESS, "k", items=[LineRequest("H1-BLK", 1)])
    await commerce.payments.sandbox_pay((await commerce.payments.start(order.number)).payment_id)
    new = (await event_types(commerce))[len(before) :]
    assert new == ["OrderPlaced", "PaymentCaptured", "OrderStatusChanged"]


async def test_relay_delivers_at_least_once_with_backoff(commerce: Commerce, clock: FakeClock) -> None:
    await build_shop(commerce)
    total = await pending_count(commerce.sessions)
    assert total > 0
    seen: list[int] = []
    fail_first = {"left": 1}

    async def handler(envelope: OutboxEnvelope) -> None:
        if fail_first["left"]:
            fail_first["left"] -= 1
            raise ConnectionError("merchant webhook down")
        seen.append(envelope.id)

    delivered = await relay_once(commerce.sessions, clock, handler)
    assert delivered == total - 1 and await pending_count(commerce.sessions) == 1
    assert await relay_once(commerce.sessions, clock, handler) == 0  # backing off
    clock.advance(seconds=3)
    assert await relay_once(commerce.sessions, clock, handler) == 1
    assert await pending_count(commerce.sessions) == 0 and len(set(seen)) == total


def test_migrations_have_one_head() -> None:
    assert len(heads()) == 1


async def test_migrated_schema_matches_the_models(commerce: Commerce) -> None:
    async with commerce.engine.connect() as conn:
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        count = await conn.scalar(select(func.count()).select_from(OutboxMessage))
    assert set(metadata.tables) <= tables
    assert count == 0

    def indexes(sync_conn: object) -> dict[str, set[str]]:
        inspector = inspect(sync_conn)
        return {
            name: {i["name"] for i in inspector.get_indexes(name) if not i["unique"] and i["name"]}
            for name in metadata.tables
        }

    async with commerce.engine.connect() as conn:
        migrated = await conn.run_sync(indexes)
    migrated["products"].discard("ix_products_search")  # full-text index, per dialect, outside the models
    migrated["products"].discard("ix_products_name_trgm")  # PostgreSQL's trigram index (typos), likewise
    modelled = {
        name: {str(i.name) for i in table.indexes if not i.unique} for name, table in metadata.tables.items()
    }
    assert migrated == modelled
