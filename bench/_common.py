"""Shared set-up for benchmark scripts: a throw-away database on the configured server."""

from __future__ import annotations

import json
import statistics
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from tempfile import TemporaryDirectory

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.settings import Settings
from commerce_core.db.migrate import upgrade


@asynccontextmanager
async def scratch_database(settings: Settings) -> AsyncIterator[str]:
    """A fresh, migrated database next to the configured one (same server), dropped afterwards."""
    url = make_url(settings.db_url)
    if url.get_backend_name() == "sqlite":
        with TemporaryDirectory() as folder:
            scratch = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
            await upgrade(scratch)
            yield scratch
        return
    name = f"shopbot_bench_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    scratch = url.set(database=name).render_as_string(hide_password=False)
    try:
        await upgrade(scratch)
        yield scratch
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(values, 50) * 1000, 2),
        "p99_ms": round(percentile(values, 99) * 1000, 2),
        "mean_ms": round(statistics.fmean(values) * 1000, 2) if values else 0.0,
    }


def emit_json(figures: dict[str, object]) -> None:
    print(json.dumps(figures, ensure_ascii=False, sort_keys=True))
