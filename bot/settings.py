"""Configuration from the environment (``SHOPBOT_*``), read once at start-up by :func:`load_settings`.

One tree: the general settings, and a section per channel (``settings.telegram``, ``settings.wechat``)
that :func:`bot.bootstrap.bootstrap` hands to that channel; no channel reads the environment itself.

The embedded default needs no configuration at all: a SQLite file and an in-process Redis-compatible
store under ``SHOPBOT_DATA_DIR``, and development secrets generated on first run into
``<data dir>/secrets.json``. In production (``SHOPBOT_ENV=production``) every secret must be given
and the embedded stores are refused, with an error that names the missing setting.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Literal

from cryptography.fernet import Fernet
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.channels.telegram.settings import TelegramSettings
from bot.channels.wechat.settings import WeChatSettings
from bot.infra.flood import RateLimitSettings
from bot.settings_checks import production_secret_errors
from bot.sms.tencent import SmsSettings


class ConfigurationError(RuntimeError):
    """A setting is missing or wrong; the message says which and how to fix it."""


class BackofficeSettings(BaseSettings):
    """The back office's section (``SHOPBOT_BACKOFFICE_*``): its session secret and lifetime."""

    model_config = SettingsConfigDict(env_prefix="SHOPBOT_BACKOFFICE_", extra="ignore")

    #: encrypts the session cookie: 32+ random characters; generated per data dir in development
    secret: str | None = None
    #: how long a session lasts without a new login (the cookie and the server-side check agree)
    session_hours: int = Field(default=12, ge=1, le=24 * 30)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPBOT_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path(".shopbot")
    database_url: str | None = None
    redis_url: str = "memory://"
    #: PostgreSQL connections per process: a few per database core (see commerce_core.db.engine)
    db_pool_size: int = Field(default=8, ge=1, le=200)
    db_pool_overflow: int = Field(default=4, ge=0, le=200)
    encryption_keys: str | None = Field(default=None, description="comma-separated Fernet keys, newest first")
    blind_index_key: str | None = None
    sandbox_payment_secret: str | None = None
    public_base_url: str = "http://127.0.0.1:8080"
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    carrier_speed: float = 1.0
    payment_window_minutes: int = 30
    nlu_backend: Literal["builtin", "rasa"] = "builtin"
    rasa_url: str | None = None
    # -- one section per channel that needs configuration; each keeps its own variable names
    #    (SHOPBOT_TELEGRAM_*, SHOPBOT_WECHAT_*) and is read here, once, with the rest
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    wechat: WeChatSettings = Field(default_factory=WeChatSettings)
    backoffice: BackofficeSettings = Field(default_factory=BackofficeSettings)
    rate: RateLimitSettings = Field(default_factory=RateLimitSettings)
    sms: SmsSettings = Field(default_factory=SmsSettings)

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{(self.data_dir / 'shopbot.db').as_posix()}"

    @property
    def key_list(self) -> list[str]:
        return [k.strip() for k in (self.encryption_keys or "").split(",") if k.strip()]


def load_settings(**overrides: object) -> Settings:
    """Read the environment once, fill development secrets, and check production requirements."""
    settings = Settings(**overrides)  # type: ignore[arg-type]
    if settings.env == "production":
        missing = [
            name
            for name, value in (
                ("SHOPBOT_DATABASE_URL", settings.database_url),
                ("SHOPBOT_ENCRYPTION_KEYS", settings.encryption_keys),
                ("SHOPBOT_BLIND_INDEX_KEY", settings.blind_index_key),
                ("SHOPBOT_SANDBOX_PAYMENT_SECRET", settings.sandbox_payment_secret),
                ("SHOPBOT_BACKOFFICE_SECRET", settings.backoffice.secret),
            )
            if not value
        ]
        if missing:
            raise ConfigurationError("production needs these settings: " + ", ".join(missing))
        if settings.redis_url.startswith("memory://"):
            raise ConfigurationError("production needs a real Redis: set SHOPBOT_REDIS_URL=redis://...")
        if settings.db_url.startswith("sqlite"):
            raise ConfigurationError(
                "production needs PostgreSQL: set SHOPBOT_DATABASE_URL=postgresql+asyncpg://..."
            )
    else:
        settings = _with_development_secrets(settings)
    for key in settings.key_list:
        try:
            Fernet(key.encode())
        except ValueError as exc:
            raise ConfigurationError("SHOPBOT_ENCRYPTION_KEYS holds a key that is not a Fernet key") from exc
    if settings.env == "production" and (weak := production_secret_errors(settings)):
        raise ConfigurationError("production refuses weak settings: " + "; ".join(weak))
    return settings


def _with_development_secrets(settings: Settings) -> Settings:
    """Generate missing secrets once per data directory, so data stays readable across restarts."""
    if settings.encryption_keys and settings.blind_index_key and settings.sandbox_payment_secret:
        return settings
    path = settings.data_dir / "secrets.json"
    stored: dict[str, str] = {}
    if path.exists():
        stored = json.loads(path.read_text())
    else:
        stored = {
            "encryption_keys": Fernet.generate_key().decode(),
            "blind_index_key": secrets.token_hex(32),
            "sandbox_payment_secret": secrets.token_hex(24),
        }
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.write_text(json.dumps(stored))
        os.chmod(path, 0o600)
    return settings.model_copy(
        update={
            "encryption_keys": settings.encryption_keys or stored["encryption_keys"],
            "blind_index_key": settings.blind_index_key or stored["blind_index_key"],
            "sandbox_payment_secret": settings.sandbox_payment_secret or stored["sandbox_payment_secret"],
        }
    )
