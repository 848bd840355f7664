"""The whole bot behind its HTTP app for operations tests: SQLite (the embedded default), in-process
Redis, the small test shop, and ``/metrics`` behind a bearer token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.http.app import create_app
from bot.runtime import Runtime
from commerce_core.api import FakeClock
from tests.backoffice.conftest import browser, people  # noqa: F401 - the back office's fixtures, reused
from tests.commerce.factory import build_shop
from tests.runtime_support import make_runtime, sqlite_copy

METRICS_TOKEN = "metrics-token-for-tests-0123456789"
Client = TestClient[web.Request, web.Application]


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return sqlite_copy(request, tmp_path)


@pytest_asyncio.fixture
async def runtime(
    db_url: str, tmp_path: Path, clock: FakeClock, interpreter: Any, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Runtime]:
    monkeypatch.setenv("SHOPBOT_METRICS_TOKEN", METRICS_TOKEN)
    rt = await make_runtime(db_url, tmp_path, clock, interpreter)
    await build_shop(rt.container.commerce)
    await rt.refresh_catalogue()
    try:
        yield rt
    finally:
        await rt.aclose()


@pytest_asyncio.fixture
async def client(runtime: Runtime) -> AsyncIterator[Client]:
    async with TestClient(TestServer(create_app(runtime), host="127.0.0.1")) as test_client:
        yield test_client
