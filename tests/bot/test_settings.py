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
    for name in (
        "SHOPBOT_DATABASE_URL",
        "SHOPBOT_ENCRYPTION_KEYS",
        "SHOPBOT_BLIND_INDEX_KEY",
        "SHOPBOT_BACKOFFICE_SECRET",
    ):
        assert name in str(err.value)


def test_production_refuses_embedded_stores_and_bad_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPBOT_ENV", "production")
    monkeypatch.setenv("SHOPBOT_DATABASE_URL", "postgresql+asyncpg://u@db/shop")
    monkeypatch.setenv("SHOPBOT_ENCRYPTION_KEYS", "not-a-key")
    monkeypatch.setenv("SHOPBOT_BLIND_INDEX_KEY", "x" * 32)
    monkeypatch.setenv("SHOPBOT_SANDBOX_PAYMENT_SECRET", "y" * 32)
    monkeypatch.setenv("SHOPBOT_BACKOFFICE_SECRET", "z" * 48)
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


async def test_channel_sections_are_read_once_with_their_old_names_and_wire_the_channels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiohttp import web

    from bot.bootstrap import bootstrap

    monkeypatch.setenv("SHOPBOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:test-token")
    monkeypatch.setenv("SHOPBOT_TELEGRAM_WEBHOOK_SECRET", "hook-secret")
    monkeypatch.setenv("SHOPBOT_WECHAT_APP_ID", "wx0123")
    monkeypatch.setenv("SHOPBOT_WECHAT_TOKEN", "wechat-token")
    monkeypatch.setenv("SHOPBOT_WECHAT_PAY_MCH_ID", "1900000109")
    monkeypatch.setenv("SHOPBOT_WECHAT_PAY_API_KEY", "k" * 32)
    settings = load_settings()
    assert settings.telegram.bot_token == "123456:test-token" and settings.telegram.webhook_mode
    assert settings.wechat.enabled and settings.wechat.pay_enabled
    for name in ("TELEGRAM_BOT_TOKEN", "SHOPBOT_TELEGRAM_WEBHOOK_SECRET", "SHOPBOT_WECHAT_APP_ID"):
        monkeypatch.delenv(name)  # from here on only the settings tree counts
    container = bootstrap(settings)
    try:
        assert set(container.channels) == {"console", "web", "telegram", "wechat"}
        payments = container.commerce.payments
        assert {payments.provider(name).name for name in ("sandbox", "telegram", "wechatpay")} == {
            "sandbox",
            "telegram",
            "wechatpay",
        }
        app = web.Application()
        for install in container.routes:
            install(app)
        paths = {route.resource.canonical for route in app.router.routes() if route.resource is not None}
        assert {"/api/chat", "/telegram/webhook", "/wechat", "/wechat/pay/notify"} <= paths
    finally:
        await container.aclose()
    quiet = bootstrap(load_settings())  # nothing configured: only the console and the web chat
    try:
        assert set(quiet.channels) == {"console", "web"}
    finally:
        await quiet.aclose()
