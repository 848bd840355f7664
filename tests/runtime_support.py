"""Building a real runtime for tests (shared by the dialog, HTTP and channel test packages)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from bot.bootstrap import build_runtime
from bot.channels.base import ChannelFactory
from bot.infra.redis import make_redis
from bot.runtime import Runtime
from bot.settings import load_settings
from commerce_core.clock import FakeClock
from nlu import BuiltinInterpreter
from tests.conftest import TEST_KEYS, missing_service

NLU_CACHE = Path(tempfile.gettempdir()) / "shopbot-test-nlu-cache"


def sqlite_copy(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A private copy of the session's migrated SQLite template (the embedded default)."""
    path = tmp_path / "shop.db"
    shutil.copy(request.getfixturevalue("sqlite_template"), path)
    return f"sqlite+aiosqlite:///{path}"


async def make_runtime(
    db_url: str,
    tmp_path: Path,
    clock: FakeClock,
    interpreter: BuiltinInterpreter,
    redis_url: str = "memory://",
    channels: dict[str, ChannelFactory] | None = None,
    **overrides: object,
) -> Runtime:
    """A runtime on ``db_url``; on a real Redis, tests keep apart by using their own user ids.
    ``channels`` adds (or replaces) channels, as ``bootstrap(channels=...)`` does."""
    settings = load_settings(
        database_url=db_url,
        data_dir=tmp_path,
        redis_url=redis_url,
        encryption_keys=",".join(TEST_KEYS),
        blind_index_key="test-index-key",
        sandbox_payment_secret="test-sandbox-secret-123",
        **overrides,
    )
    redis = make_redis(redis_url)
    if redis_url != "memory://":
        try:
            await redis.ping()
        except Exception as exc:  # noqa: BLE001
            missing_service("Redis", exc)
    return await build_runtime(settings, clock=clock, redis=redis, interpreter=interpreter, channels=channels)
