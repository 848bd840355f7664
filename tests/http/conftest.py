"""Fixtures for the HTTP app: the real runtime (SQLite, in-memory Redis, the test shop) behind aiohttp."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.http.app import create_app
from bot.runtime import Runtime
from commerce_core.clock import FakeClock
from nlu import BuiltinInterpreter
from tests.commerce.factory import build_shop
from tests.dialogs.conftest import NLU_CACHE, make_runtime


@pytest.fixture(scope="session")
def interpreter() -> BuiltinInterpreter:
    return BuiltinInterpreter.load(cache_dir=NLU_CACHE)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    path = tmp_path / "shop.db"
    shutil.copy(request.getfixturevalue("sqlite_template"), path)
    return f"sqlite+aiosqlite:///{path}"


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


@pytest_asyncio.fixture
async def client(runtime: Runtime) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async with TestClient(TestServer(create_app(runtime), host="127.0.0.1")) as test_client:
        yield test_client
