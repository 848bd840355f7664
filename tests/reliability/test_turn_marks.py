"""Turn marks on a real Redis: a done turn replays its reply, a failed one is retried, N failures make a
dead letter (with an apology) that staff can retry, and a dead process's lease runs out."""

from __future__ import annotations

import asyncio
import secrets
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.channels.console import ConsoleSession
from bot.pipeline import Pipeline
from bot.runtime import Runtime
from bot.turns import (
    DeadLetters,
    Owner,
    TurnInProgress,
    failures_key,
    lock_key,
    mark_key,
    processing_value,
    read_mark,
)
from commerce_core.clock import FakeClock
from dialogs.messages import InboundMessage, Reply
from tests.commerce.factory import build_shop
from tests.conftest import REDIS_URL
from tests.runtime_support import make_runtime


@pytest_asyncio.fixture
async def runtime(
    tmp_path: Path, clock: FakeClock, interpreter: Any, sqlite_template: Path
) -> AsyncIterator[Runtime]:
    """The bot on SQLite (the marks live in Redis; the database does not matter here) and a real Redis."""
    shutil.copy(sqlite_template, tmp_path / "shop.db")
    url = f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}"
    rt = await make_runtime(url, tmp_path, clock, interpreter, REDIS_URL)
    await build_shop(rt.container.commerce)
    await rt.refresh_catalogue()
    try:
        yield rt
    finally:
        await rt.aclose()


def said(text: str, *, user: str | None = None, delivery: str | None = None) -> InboundMessage:
    user = user or f"marks-{secrets.token_hex(4)}"
    delivery = delivery or secrets.token_hex(6)
    return InboundMessage("web", user, user, text, dedup_key=delivery, language_hint="en")


def texts(replies: list[Reply]) -> str:
    return " ".join(getattr(reply, "text", "") for reply in replies)


class Breakdown(RuntimeError):
    pass


def break_turns(pipeline: Pipeline, times: int) -> list[int]:
    """Make the next ``times`` turns fail inside the dialog (after the marks were taken)."""
    calls: list[int] = []
    real = pipeline._handle_locked

    async def failing(message: InboundMessage, state: Any) -> Any:
        calls.append(1)
        if len(calls) <= times:
            raise Breakdown("the database went away")
        return await real(message, state)

    pipeline._handle_locked = failing  # type: ignore[method-assign]
    return calls


async def test_a_redelivered_done_turn_gets_the_same_reply_without_a_second_effect(runtime: Runtime) -> None:
    pipeline = runtime.pipeline
    session = ConsoleSession(runtime, f"marks-{secrets.token_hex(4)}", language="en", numbered_buttons=False)
    session.seen_payloads.add("sku:D1-RED-M:1")  # the button was shown earlier
    message = session.to_message("sku:D1-RED-M:1")
    added = await pipeline.handle(message)
    again = await pipeline.handle(message)
    assert again == added and "to your cart" in texts(added)
    customer = await runtime.container.commerce.customers.identify("console", message.user_id)
    assert (await runtime.container.commerce.cart.view(customer.id)).item_count == 1


async def test_a_failed_turn_is_not_marked_and_its_retry_is_answered(runtime: Runtime) -> None:
    pipeline = runtime.pipeline
    message = said("hello")
    calls = break_turns(pipeline, 1)
    with pytest.raises(Breakdown):
        await pipeline.handle(message)
    assert await pipeline.redis.get(mark_key(message)) is None  # no mark: the retry is not a duplicate
    replies = await pipeline.handle(message)
    assert replies and len(calls) == 2
    assert await pipeline.handle(message) == replies  # and now it is done


async def test_after_n_failures_a_dead_letter_and_an_apology_then_staff_retry_it(runtime: Runtime) -> None:
    pipeline = runtime.pipeline
    message = said("hello")
    limit = pipeline.turns.max_failures
    break_turns(pipeline, limit)
    for _ in range(limit - 1):
        with pytest.raises(Breakdown):
            await pipeline.handle(message)
    apology = await pipeline.handle(message)
    assert "problem on our side" in texts(apology)
    assert await pipeline.handle(message) == apology  # the platform's next retry: the apology, no loop
    letters = DeadLetters(pipeline.redis)
    mine = [letter for letter in await letters.entries() if letter.message == message]
    assert len(mine) == 1 and mine[0].attempts == limit and "went away" in mine[0].error
    delivered: list[tuple[InboundMessage, list[Reply]]] = []

    async def deliver(again: InboundMessage, replies: list[Reply]) -> None:
        delivered.append((again, replies))

    replies = await letters.retry(mine[0].id, pipeline.handle, deliver)
    assert replies and delivered == [(delivered[0][0], replies)]
    assert delivered[0][0].user_id == message.user_id and "problem" not in texts(replies)
    assert await letters.get(mine[0].id) is None
    assert await letters.retry(mine[0].id, pipeline.handle, deliver) is None  # a second click: nothing
    await pipeline.redis.delete(failures_key(message))


async def test_a_dead_process_lease_runs_out_and_the_retry_is_processed(runtime: Runtime) -> None:
    pipeline = runtime.pipeline
    message = said("hello")
    # a process claimed this delivery and was killed mid-turn: its mark stays until the lease ends
    await pipeline.redis.set(mark_key(message), b"p:dead-process", px=300)
    with pytest.raises(TurnInProgress):
        await pipeline.handle(message)
    await asyncio.sleep(0.35)
    assert await pipeline.handle(message)


async def test_keys_are_hash_tagged_per_conversation() -> None:
    message = said("hi", user="u1", delivery="42")
    assert mark_key(message).startswith("{conv:web:u1}:")
    assert failures_key(message).startswith("{conv:web:u1}:")


async def test_a_restarted_process_takes_over_its_dead_predecessors_turn_at_once(runtime: Runtime) -> None:
    """kill -9 mid-turn, same slot started again: no waiting for the lease (R3.4-1)."""
    pipeline = runtime.pipeline
    pipeline.owner = Owner("host:8080")  # this start of the slot
    predecessor = Owner("host:8080")  # the start that was killed mid-turn
    message = said("hello")
    lock = lock_key(message.conversation_key)
    await pipeline.redis.set(mark_key(message), processing_value(str(predecessor)), px=60_000)
    await pipeline.redis.set(lock, f"{predecessor}#abc", px=60_000)
    assert texts(await pipeline.handle(message))  # answered now, not after a minute
    assert read_mark(await pipeline.redis.get(mark_key(message))).state == "done"
    assert await pipeline.redis.get(lock) is None  # released by the turn that took it over


async def test_another_slots_or_a_live_holders_turn_is_not_taken_over(runtime: Runtime) -> None:
    pipeline = runtime.pipeline
    pipeline.owner = Owner("host:8080")
    other_slot = said("hello")
    await pipeline.redis.set(mark_key(other_slot), processing_value(str(Owner("host:8081"))), px=300)
    with pytest.raises(TurnInProgress):
        await pipeline.handle(other_slot)
    assert not Owner("").predecessor_of(processing_value(str(Owner(""))))  # no slot: never
    assert not pipeline.owner.predecessor_of(processing_value(str(pipeline.owner)))  # ourselves: never
    assert pipeline.owner.predecessor_of(processing_value(str(Owner("host:8080"))))
