"""R6.2-1 behaviour events: a scripted set of real turns through the HTTP app and the pipeline produces
the expected events (searches with their query, filters and result count, a zero-result search, a
product view, cart add, checkout, order, paid (with the capture), handoff, NLU fallback with its
message masked), each under a pseudonym, never the
shopper's platform id; they are written in batches off the turn, included in the shopper's export
(R6.3-1), erased with the shopper's data, and pruned by day after the retention period. SQLite and
PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from bot.runtime import Runtime
from commerce_core.analytics.model import BehaviourEvent
from commerce_core.analytics.service import _INSERT_EVENTS, EVENT_COLUMNS
from commerce_core.api import FakeClock
from commerce_core.db.base import table_of
from commerce_core.db.fast.pg_unit import PgUnitOfWork
from tests.conftest import fresh_postgres
from tests.http.test_app import chat, place_order
from tests.operations.conftest import Client
from tests.runtime_support import sqlite_copy

SHOPPER = "events-shopper-4711"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return sqlite_copy(request, tmp_path) if request.param == "sqlite" else fresh_postgres(request)


async def stored(runtime: Runtime) -> list[dict[str, object]]:
    behaviour = runtime.pipeline.behaviour
    assert behaviour is not None
    await behaviour.buffer.flush()  # what the background task does every couple of seconds
    async with runtime.container.commerce.engine.connect() as conn:
        rows = await conn.execute(text("SELECT * FROM behaviour_events ORDER BY id"))
        return [dict(row._mapping) for row in rows]


async def test_scripted_turns_produce_the_expected_events(
    client: Client, runtime: Runtime, clock: FakeClock
) -> None:
    commerce = runtime.container.commerce
    number, payment = await place_order(client, SHOPPER)  # search, view, add, choose size, checkout ...
    assert (await client.post(f"/sandbox/pay/{payment}")).status == 200  # paid on the sandbox's page
    await chat(client, SHOPPER, text="有没有潜水艇", lang="zh-Hans")  # the shop has none
    await chat(client, SHOPPER, text="qwzx vlorp 13912345678 ghh", lang="en")  # nobody understands this

    events = await stored(runtime)
    kinds = Counter(str(e["kind"]) for e in events)
    # every turn counts once (the fallback rate's denominator), summed per batch, not a row per turn
    assert sum(int(str(e["results"])) for e in events if e["kind"] == "messages") == 9
    assert kinds["search"] == 2
    assert kinds["product_view"] == 1
    assert kinds["cart_add"] == 1
    assert kinds["checkout_started"] == 1
    assert kinds["order_placed"] == 1
    assert kinds["nlu_fallback"] == 1
    assert kinds["paid"] == 1  # written with the payment's capture, not by a turn
    [fallback] = [e for e in events if e["kind"] == "nlu_fallback"]
    assert fallback["query"] == "qwzx vlorp ########### ghh"  # kept masked: no phone number
    [paid] = [e for e in events if e["kind"] == "paid"]
    assert paid["amount"] and paid["merchant_id"] and paid["results"] == 1
    searches = [e for e in events if e["kind"] == "search"]
    assert searches[0]["results"] and int(str(searches[0]["results"])) > 0
    assert searches[0]["filters"] and "red" in str(searches[0]["filters"]).lower()
    zero = searches[1]
    assert zero["results"] == 0 and "潜水艇" in str(zero["query"])
    assert {e["channel"] for e in events if e["kind"] != "paid"} == {"web"}
    assert paid["channel"] == "sandbox"  # a payment arrives from its provider, outside any chat
    assert {e["subject"] for e in events if e["kind"] == "messages"} == {"-"}  # a count, nobody's
    assert {e["product"] for e in events if e["kind"] in ("product_view", "cart_add")} == {"D1"}

    async with commerce.engine.connect() as conn:
        customer_id = (
            await conn.execute(text("SELECT customer_id FROM orders WHERE number = :n"), {"n": number})
        ).scalar_one()
    subject = commerce.analytics.customer_subject(customer_id)
    assert SHOPPER not in {str(e["subject"]) for e in events}  # a pseudonym, never the platform id
    assert all(SHOPPER not in str(value) for e in events for value in e.values())
    assert sum(1 for e in events if e["subject"] == subject) >= 5  # after checkout made a customer

    exported = await commerce.privacy.export(customer_id)
    assert any("潜水艇" in str(e["query"]) for e in exported["behaviour_events"])
    assert any(e["kind"] == "paid" for e in exported["behaviour_events"])

    await commerce.privacy.erase(customer_id, actor="test")
    left = await stored(runtime)
    assert not [e for e in left if e["subject"] == subject]  # erased with the shopper's data

    clock.advance(days=200)  # past the default 180 days' retention
    assert await commerce.analytics.prune(runtime.container.settings.analytics.retention_days) == len(left)
    assert await stored(runtime) == []


async def test_a_turn_does_not_wait_for_the_database(client: Client, runtime: Runtime) -> None:
    """The events of a turn wait in memory; one batched write stores them later."""
    behaviour = runtime.pipeline.behaviour
    assert behaviour is not None
    await chat(client, "events-buffer", text="有没有红色连衣裙", lang="zh-Hans")
    assert behaviour.buffer.pending == 2  # the turn counted and its search, not yet written
    assert sorted(str(e["kind"]) for e in await stored(runtime)) == ["messages", "search"]
    assert behaviour.buffer.pending == 0


async def test_the_batched_write_stores_exactly_what_the_general_insert_stores(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a batch goes in with one binary COPY on the raw connection; the rows it stores must
    be the ones the ORM unit's INSERT stores from the same values (UTC times from another zone, JSON
    filters, NULLs, text COPY's text format would mangle). On SQLite both are the INSERT."""
    commerce = runtime.container.commerce
    analytics = commerce.analytics
    copies: list[int] = []
    original = PgUnitOfWork.copy_rows

    async def counting(self: PgUnitOfWork, statement: Any, columns: Any, rows: Any) -> None:
        copies.append(len(rows))
        await original(self, statement, columns, rows)

    monkeypatch.setattr(PgUnitOfWork, "copy_rows", counting)
    at = datetime(2026, 12, 4, 23, 30, 15, 123456, tzinfo=timezone(timedelta(hours=8)))
    rows = [
        (at.date(), at, "search", "s" * 64, "web", "zh-Hans", None, None,
         "红色\t连衣裙\n\\N \"x\"", {"颜色": "红", "size": ["M", "L"], "max": 300}, 0, None),
        (at.date(), at, "order_placed", "subject-2", "telegram", "en", 2_000_000_000, "D1",
         None, None, None, 1_999_999_999),
        (at.date(), at, "messages", "-", "wechat", "zh-Hant", None, None, "", {}, 40, None),
    ]  # fmt: skip
    await analytics.record_rows(rows)
    async with commerce.units.orm() as uow:  # the general path: the ORM unit's INSERT
        await uow.session.execute(
            _INSERT_EVENTS, [dict(zip(EVENT_COLUMNS, row, strict=True)) for row in rows]
        )
        await uow.commit()
    async with commerce.engine.connect() as conn:  # typed columns: datetimes and JSON on both backends
        table = table_of(BehaviourEvent)
        found = await conn.execute(select(table).order_by(table.c.id))
        stored_rows = [{k: v for k, v in row._mapping.items() if k != "id"} for row in found]
    postgres = commerce.engine.dialect.name == "postgresql"
    assert copies == ([3] if postgres else [])  # the COPY path ran where it exists
    assert len(stored_rows) == 6
    assert stored_rows[:3] == stored_rows[3:]  # column by column, the same rows
    assert stored_rows[0]["at"] == at  # the same instant (stored as UTC)
    assert stored_rows[0]["filters"] == {"颜色": "红", "size": ["M", "L"], "max": 300}
    assert stored_rows[0]["query"] == '红色\t连衣裙\n\\N "x"'
    assert stored_rows[2]["filters"] == {} and stored_rows[2]["query"] == ""


async def test_events_written_just_after_an_erasure_are_erased_by_the_job_loop(
    client: Client, runtime: Runtime, clock: FakeClock
) -> None:
    """R6.3-1: a shopper's last turns wait in memory until the next batch, so a batch can land just
    after their erasure (here: kept before, written after). The job loop deletes such late events."""
    commerce = runtime.container.commerce
    number, _ = await place_order(client, "events-late-erasure")
    async with commerce.engine.connect() as conn:
        customer_id = (
            await conn.execute(text("SELECT customer_id FROM orders WHERE number = :n"), {"n": number})
        ).scalar_one()
    subject = commerce.analytics.customer_subject(customer_id)
    await stored(runtime)  # the order's turns written
    await chat(client, "events-late-erasure", text="有没有红色连衣裙", lang="zh-Hans")  # kept in memory
    await commerce.privacy.erase(customer_id, actor="test")
    late = [e for e in await stored(runtime) if e["subject"] == subject]  # the batch lands after it
    assert [e["kind"] for e in late] == ["search"]

    clock.advance(minutes=1)
    assert (await runtime.tick())["late_events_erased"] == 1
    assert not [e for e in await stored(runtime) if e["subject"] == subject]
    clock.advance(minutes=30)  # long past: the probe no longer looks at this erasure
    assert (await runtime.tick())["late_events_erased"] == 0
