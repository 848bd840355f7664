"""End-to-end fixtures: the real runtime (pipeline, NLU, dialogs, commerce) behind the console channel."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.channels.console import ConsoleSession
from bot.infra.redis import make_redis
from bot.runtime import Runtime, build_runtime
from bot.settings import load_settings
from commerce_core.clock import FakeClock
from nlu import BuiltinInterpreter
from tests.commerce.factory import build_shop
from tests.conftest import TEST_KEYS, fresh_postgres, missing_service

NLU_CACHE = Path(tempfile.gettempdir()) / "shopbot-test-nlu-cache"


@pytest.fixture(scope="session")
def interpreter() -> BuiltinInterpreter:
    """Trained once per test session (the cache is keyed by a hash of the training data)."""
    return BuiltinInterpreter.load(cache_dir=NLU_CACHE)


async def make_runtime(
    db_url: str,
    tmp_path: Path,
    clock: FakeClock,
    interpreter: BuiltinInterpreter,
    redis_url: str = "memory://",
) -> Runtime:
    """A runtime on ``db_url``; on a real Redis, tests keep apart by using their own user ids."""
    settings = load_settings(
        database_url=db_url,
        data_dir=tmp_path,
        redis_url=redis_url,
        encryption_keys=",".join(TEST_KEYS),
        blind_index_key="test-index-key",
        sandbox_payment_secret="test-sandbox-secret-123",
    )
    redis = make_redis(redis_url)
    if redis_url != "memory://":
        try:
            await redis.ping()
        except Exception as exc:  # noqa: BLE001
            missing_service("Redis", exc)
    return await build_runtime(settings, clock=clock, redis=redis, interpreter=interpreter)


@pytest_asyncio.fixture
async def runtime(
    db_url: str, tmp_path: Path, clock: FakeClock, interpreter: BuiltinInterpreter
) -> AsyncIterator[Runtime]:
    rt = await make_runtime(db_url, tmp_path, clock, interpreter)
    await build_shop(rt.container.commerce)
    await rt.refresh_catalogue()
    try:
        yield rt
    finally:
        await rt.aclose()


@pytest.fixture(params=["sqlite"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """End-to-end conversations run on the embedded default; see test_persistence for PostgreSQL."""
    import shutil

    if request.param == "postgres":
        return fresh_postgres(request)
    path = tmp_path / "shop.db"
    shutil.copy(request.getfixturevalue("sqlite_template"), path)
    return f"sqlite+aiosqlite:///{path}"


class Chat:
    """A shopper talking through the console channel, with helpers to read what came back."""

    def __init__(self, session: ConsoleSession) -> None:
        self.session = session
        self.last: list[dict[str, Any]] = []

    async def say(self, text: str) -> list[dict[str, Any]]:
        self.last = await self.session.send(text)
        return self.last

    async def tap(self, payload: str) -> list[dict[str, Any]]:
        """Tap a button payload directly (e.g. one shown in an earlier message)."""
        self.last = await self.session.press(payload)
        return self.last

    async def press(self, match: Callable[[dict[str, str]], bool] | str) -> list[dict[str, Any]]:
        """Press the first button whose payload starts with ``match`` (or satisfies it)."""
        for reply in self.last:
            for button in reply.get("buttons", []):
                ok = button["payload"].startswith(match) if isinstance(match, str) else match(button)
                if ok:
                    return await self.say(button["payload"])
        raise AssertionError(f"no button {match!r} in {self.text}")

    @property
    def text(self) -> str:
        return "\n".join(r["text"] for r in self.last)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.last if r["type"] == kind]


@pytest.fixture
def chat_factory(runtime: Runtime) -> Callable[..., Chat]:
    def make(user: str = "shopper", lang: str | None = None) -> Chat:
        return Chat(ConsoleSession(runtime, user, language=lang, numbered_buttons=False))

    return make
