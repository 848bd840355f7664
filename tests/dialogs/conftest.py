"""End-to-end fixtures: the real runtime (pipeline, NLU, dialogs, commerce) behind the console channel."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

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
