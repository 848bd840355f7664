"""A turn's Redis work in one script at its start and one at its end (issue 16: the pipeline's CPU per
turn), and that nothing a shopper notices changed: state kept between turns with and without a
de-duplication key, the lock released, a redelivery answered with the stored reply, an erased
conversation forgotten."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.runtime import Runtime
from bot.turns import conversation_tag, lock_key, mark_key
from commerce_core.clock import FakeClock
from dialogs.messages import InboundMessage
from tests.commerce.factory import build_shop
from tests.conftest import REDIS_URL
from tests.reliability.test_turn_marks import texts
from tests.runtime_support import make_runtime


@pytest_asyncio.fixture
async def runtime(
    tmp_path: Path, clock: FakeClock, interpreter: Any, sqlite_template: Path
) -> AsyncIterator[Runtime]:
    """The bot on SQLite (the turn's keys live in Redis; the database does not matter here), real Redis."""
    shutil.copy(sqlite_template, tmp_path / "shop.db")
    rt = await make_runtime(
        f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}", tmp_path, clock, interpreter, REDIS_URL
    )
    await build_shop(rt.container.commerce)
    await rt.refresh_catalogue()
    try:
        yield rt
    finally:
        await rt.aclose()


def message(user: str, text: str, delivery: str | None) -> InboundMessage:
    return InboundMessage("web", user, user, text, dedup_key=delivery, language_hint="en")


def count_conversation_commands(runtime: Runtime, monkeypatch: pytest.MonkeyPatch, user: str) -> list[str]:
    """The Redis commands that touch ``user``'s conversation keys (other parts share the client)."""
    sent: list[str] = []
    redis = runtime.pipeline.redis
    real = redis.execute_command
    tag = conversation_tag(f"web:{user}")

    async def counting(*args: Any, **options: Any) -> Any:
        if any(tag in (a.decode(errors="replace") if isinstance(a, bytes) else str(a)) for a in args[1:]):
            sent.append(str(args[0]))
        return await real(*args, **options)

    monkeypatch.setattr(redis, "execute_command", counting)
    return sent


@pytest.mark.parametrize("dedup", [True, False], ids=["with-delivery-id", "without"])
async def test_a_turn_asks_redis_twice_and_keeps_its_state(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, dedup: bool
) -> None:
    """R3.3-1: two scripted commands per turn on the happy path; the conversation goes on (its state
    is kept), the lock is free afterwards, and a redelivery gets the stored reply."""
    pipeline = runtime.pipeline
    user = f"scripts-{secrets.token_hex(4)}"
    key = f"web:{user}"
    first = message(user, "hello", secrets.token_hex(6) if dedup else None)
    assert first.conversation_key == key
    sent = count_conversation_commands(runtime, monkeypatch, user)
    replies = await pipeline.handle(first)
    assert replies and sent == ["EVAL", "EVAL"]
    assert await pipeline.redis.get(lock_key(key)) is None  # released: the next turn does not wait
    state = await pipeline.state_of(key)
    assert state.lang == "en"
    if dedup:
        assert (await pipeline.redis.get(mark_key(first))).startswith(b"d:")
        assert await pipeline.handle(first) == replies  # a redelivery: the same answer
    shown = await pipeline.handle(message(user, "red dress", secrets.token_hex(6) if dedup else None))
    assert shown and texts(shown)
    assert (await pipeline.state_of(key)).lang == "en"
