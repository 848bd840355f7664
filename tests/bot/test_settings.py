"""Settings: zero-config embedded default, clear errors for production."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import ConfigurationError, load_settings


def test_embedded_default_needs_no_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPBOT_DATA_DIR", str(tmp_path))
    first = load_settings()
    assert first.db_url == f"sqlite+aiosqlite:///{tmp_path.as_posix()}/shopbot.db"
    assert first.redis_url == "memory://"
    assert first.key_list and first.blind_index_key and first.sandbox_payment_secret
    second = load_settings()  # the same secrets next start, so encrypted data stays readable
    assert second.key_list == first.key_list and second.blind_index_key == first.blind_index_key
    assert (tmp_path / "secrets.json").stat().st_mode & 0o777 == 0o600


def test_production_names_every_missing_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPBOT_ENV", "production")
    with pytest.raises(ConfigurationError) as err:
        load_settings()
    for name in ("SHOPBOT_DATABASE_URL", "SHOPBOT_ENCRYPTION_KEYS", "SHOPBOT_BLIND_INDEX_KEY"):
        assert name in str(err.value)


def test_production_refuses_embedded_stores_and_bad_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPBOT_ENV", "production")
    monkeypatch.setenv("SHOPBOT_DATABASE_URL", "postgresql+asyncpg://u@db/shop")
    monkeypatch.setenv("SHOPBOT_ENCRYPTION_KEYS", "not-a-key")
    monkeypatch.setenv("SHOPBOT_BLIND_INDEX_KEY", "x" * 32)
    monkeypatch.setenv("SHOPBOT_SANDBOX_PAYMENT_SECRET", "y" * 32)
    with pytest.raises(ConfigurationError, match="SHOPBOT_REDIS_URL"):
        load_settings()
    monkeypatch.setenv("SHOPBOT_REDIS_URL", "redis://cache:6379/0")
    with pytest.raises(ConfigurationError, match="not a Fernet key"):
        load_settings()


async def test_the_postgresql_pool_is_sized_by_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_url: str
) -> None:
    from bot.bootstrap import bootstrap

    monkeypatch.setenv("SHOPBOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SHOPBOT_DB_POOL_SIZE", "3")
    monkeypatch.setenv("SHOPBOT_DB_POOL_OVERFLOW", "1")
    container = bootstrap(load_settings(database_url=postgres_url))
    try:
        pool = container.commerce.engine.sync_engine.pool
        assert pool.size() == 3  # type: ignore[attr-defined]
        assert pool._max_overflow == 1  # type: ignore[attr-defined]
    finally:
        await container.commerce.close()
    monkeypatch.setenv("SHOPBOT_DB_POOL_SIZE", "0")
    with pytest.raises(ValueError):
        load_settings()
