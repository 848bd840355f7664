"""Run Alembic migrations programmatically (``shopbot db upgrade``, tests, the demo).

The Alembic environment lives inside the package, so an installed shopbot can migrate its database
without a checkout or an ``alembic.ini``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

from commerce_core.db.engine import create_engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision`` (creating the SQLite file's folder if needed)."""
    if url.startswith("sqlite") and ":///" in url:
        path = url.split(":///", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    try:
        await _run(engine, revision, downgrade=False)
    finally:
        await engine.dispose()


async def downgrade(url: str, revision: str) -> None:
    engine = create_engine(url)
    try:
        await _run(engine, revision, downgrade=True)
    finally:
        await engine.dispose()


async def _run(engine: AsyncEngine, revision: str, *, downgrade: bool) -> None:
    config = alembic_config(str(engine.url.render_as_string(hide_password=False)))
    async with engine.begin() as connection:

        def _do(sync_connection: object) -> None:
            config.attributes["connection"] = sync_connection
            if downgrade:
                command.downgrade(config, revision)
            else:
                command.upgrade(config, revision)

        await connection.run_sync(_do)


def heads() -> list[str]:
    from alembic.script import ScriptDirectory

    return list(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def run_sync_upgrade(url: str) -> None:
    asyncio.run(upgrade(url))
