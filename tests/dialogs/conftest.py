"""End-to-end fixtures: the real runtime (pipeline, NLU, dialogs, commerce) behind the console channel."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.channels.console import ConsoleSession
from bot.runtime import Runtime
from tests.conftest import fresh_postgres
from tests.runtime_support import sqlite_copy


@pytest.fixture(params=["sqlite"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """End-to-end conversations run on the embedded default; see test_persistence for PostgreSQL."""
    if request.param == "postgres":
        return fresh_postgres(request)
    return sqlite_copy(request, tmp_path)


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


@pytest_asyncio.fixture(scope="module")
async def demo_runtime(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory, interpreter: Any
) -> AsyncIterator[Runtime]:
    """The whole bot on the demo catalogue (about 200 products), built once per test module."""
    from commerce_core.api import seed_demo
    from commerce_core.clock import FakeClock
    from tests.runtime_support import make_runtime

    folder = tmp_path_factory.mktemp("demo")
    path = folder / "shop.db"
    shutil.copy(sqlite_template, path)
    runtime = await make_runtime(f"sqlite+aiosqlite:///{path}", folder, FakeClock(), interpreter)
    await seed_demo(runtime.container.commerce)
    await runtime.refresh_catalogue()
    try:
        yield runtime
    finally:
        await runtime.aclose()


@pytest_asyncio.fixture
async def demo_chat(demo_runtime: Runtime, request: pytest.FixtureRequest) -> Callable[..., Chat]:
    """A new shopper on the demo catalogue (a fresh user per call, so conversations never mix).
    The NLU is shared by the session: other tests' runtimes index their own shop in it, so the demo
    catalogue is indexed again here."""
    await demo_runtime.refresh_catalogue()
    counter = iter(range(10_000))

    def make(lang: str | None = None) -> Chat:
        user = f"{request.node.name}-{next(counter)}"
        return Chat(ConsoleSession(demo_runtime, user, language=lang, numbered_buttons=False))

    return make
