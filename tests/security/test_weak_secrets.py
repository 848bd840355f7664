"""Finding 11: production refuses weak secrets, reused secrets and a plain-http public URL, naming the
setting; strong, distinct secrets start."""

from __future__ import annotations

import base64
import secrets

import pytest
from cryptography.fernet import Fernet

from bot.settings import ConfigurationError, load_settings


@pytest.fixture
def strong(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "SHOPBOT_ENV": "production",
        "SHOPBOT_DATABASE_URL": "postgresql+asyncpg://u@db/shop",
        "SHOPBOT_REDIS_URL": "redis://cache:6379/0",
        "SHOPBOT_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "SHOPBOT_BLIND_INDEX_KEY": secrets.token_hex(32),
        "SHOPBOT_SANDBOX_PAYMENT_SECRET": secrets.token_hex(32),
        "SHOPBOT_BACKOFFICE_SECRET": secrets.token_urlsafe(40),
        "SHOPBOT_TELEGRAM_WEBHOOK_SECRET": secrets.token_urlsafe(32),
        "SHOPBOT_PUBLIC_BASE_URL": "https://shop.example",
        # production needs a real payment provider (issue 11, finding 1): Telegram Payments here
        "TELEGRAM_BOT_TOKEN": "123456:" + secrets.token_urlsafe(30),
        "SHOPBOT_TELEGRAM_PAYMENT_PROVIDER_TOKEN": "284685063:TEST:" + secrets.token_hex(12),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def test_strong_distinct_secrets_over_https_start(strong: dict[str, str]) -> None:
    assert load_settings().blind_index_key == strong["SHOPBOT_BLIND_INDEX_KEY"]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SHOPBOT_ENCRYPTION_KEYS", base64.urlsafe_b64encode(bytes(32)).decode(), "key 1 is not random"),
        ("SHOPBOT_BLIND_INDEX_KEY", "k", "SHOPBOT_BLIND_INDEX_KEY is too short"),
        ("SHOPBOT_BLIND_INDEX_KEY", "ab" * 32, "SHOPBOT_BLIND_INDEX_KEY is not random"),
        ("SHOPBOT_TELEGRAM_WEBHOOK_SECRET", "a", "SHOPBOT_TELEGRAM_WEBHOOK_SECRET is too short"),
        ("SHOPBOT_PUBLIC_BASE_URL", "http://shop.example", "must be an https:// address"),
    ],
)
def test_production_refuses_a_weak_setting(
    strong: dict[str, str], monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=message):
        load_settings()


def test_the_blind_index_key_must_differ_from_the_encryption_key(
    strong: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPBOT_BLIND_INDEX_KEY", strong["SHOPBOT_ENCRYPTION_KEYS"])
    with pytest.raises(ConfigurationError, match="BLIND_INDEX_KEY must differ from SHOPBOT_ENCRYPTION_KEYS"):
        load_settings()


def test_every_problem_is_named_at_once(strong: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPBOT_TELEGRAM_WEBHOOK_SECRET", "a")
    monkeypatch.setenv("SHOPBOT_PUBLIC_BASE_URL", "http://shop.example")
    with pytest.raises(ConfigurationError) as refused:
        load_settings()
    assert "WEBHOOK_SECRET" in str(refused.value) and "https://" in str(refused.value)
