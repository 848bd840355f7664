"""Shared fixtures: real databases (SQLite file and PostgreSQL), real Redis, and the commerce core.

PostgreSQL and Redis tests need servers (defaults: 127.0.0.1:5432 user postgres, 127.0.0.1:6379).
Locally a missing server skips those tests; in CI (``CI=true``) or with ``SHOPBOT_REQUIRE_SERVICES=1``
a missing server FAILS them, so a green CI always means they ran.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from commerce_core.app import Commerce, CommerceConfig
from commerce_core.clock import FakeClock
from commerce_core.db.engine import create_engine
from commerce_core.db.migrate import upgrade
from commerce_core.db.models import metadata

POSTGRES_ADMIN_URL = os.environ.get(
    "SHOPBOT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("SHOPBOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TEST_KEYS = [Fernet.generate_key().decode()]


def services_required() -> bool:
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("SHOPBOT_REQUIRE_SERVICES") == "1"


def missing_service(what: str, error: BaseException) -> None:
    message = f"{what} is not reachable ({type(error).__name__}: {error})"
    if services_required():
        pytest.fail(message + " and services are required here (CI / SHOPBOT_REQUIRE_SERVICES)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "template.db"
    asyncio.run(upgrade(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throw-away database on the PostgreSQL server, migrated once for the whole session."""
    name = f"shopbot_test_{uuid.uuid4().hex[:8]}"
    base = POSTGRES_ADMIN_URL

    async def create() -> None:
        engine = create_async_engine(base, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            await engine.dispose()

    try:
        asyncio.run(create())
    except Exception as exc:  # noqa: BLE001
        missing_service("PostgreSQL", exc)
    url = base.rsplit("/", 1)[0] + "/" + name
    asyncio.run(upgrade(url))
    yield url

    async def drop() -> None:
        engine = create_async_engine(base, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            await engine.dispose()

    asyncio.run(drop())


TABLES = ", ".join(t.name for t in metadata.sorted_tables)


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each integration test runs once on SQLite and once on PostgreSQL, on an empty schema."""
    return empty_database(request, tmp_path)


def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty schema on the database ``request.param`` names ("sqlite" or "postgres"): for a folder
    whose fixtures run on SQLite only, a test that must run on both declares its own ``db_url``."""
    if request.param == "sqlite":
        path = tmp_path / "shop.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    return fresh_postgres(request)


def fresh_postgres(request: pytest.FixtureRequest) -> str:
    """The session's PostgreSQL database, emptied for this test."""
    url: str = request.getfixturevalue("postgres_url")

    async def truncate() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
        await engine.dispose()

    asyncio.run(truncate())
    return url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def commerce_config() -> CommerceConfig:
    """The core's settings in tests (keys and secrets for tests only)."""
    return CommerceConfig(
        encryption_keys=TEST_KEYS,
        blind_index_key="test-index-key",
        sandbox_payment_secret="test-sandbox-secret-123",
    )


@pytest_asyncio.fixture
async def commerce(db_url: str, clock: FakeClock) -> AsyncIterator[Commerce]:
    built = Commerce.build(create_engine(db_url), commerce_config(), clock=clock)
    try:
        yield built
    finally:
        await built.close()


@pytest.fixture(scope="session")
def interpreter() -> Any:
    """The built-in NLU, trained once per test session (its cache is keyed by the training data)."""
    from nlu import BuiltinInterpreter
    from tests.runtime_support import NLU_CACHE

    return BuiltinInterpreter.load(cache_dir=NLU_CACHE)


@pytest_asyncio.fixture
async def runtime(db_url: str, tmp_path: Path, clock: FakeClock, interpreter: Any) -> AsyncIterator[Any]:
    """The whole bot (pipeline, NLU, dialogs, commerce) on ``db_url`` with the small test shop."""
    from tests.commerce.factory import build_shop
    from tests.runtime_support import make_runtime

    rt = await make_runtime(db_url, tmp_path, clock, interpreter)
    await build_shop(rt.container.commerce)
    await rt.refresh_catalogue()
    try:
        yield rt
    finally:
        await rt.aclose()
