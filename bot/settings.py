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
from decimal import Decimal
from pathlib import Path
from typing import Literal

from cryptography.fernet import Fernet
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.alerts.settings import AlertSettings
from bot.analytics.settings import AnalyticsSettings
from bot.carriers.settings import Kuaidi100Settings
from bot.channels.telegram.settings import TelegramSettings
from bot.channels.wechat.settings import WeChatSettings
from bot.infra.flood import RateLimitSettings
from bot.observability.settings import LogSettings, MetricsSettings
from bot.payments.settings import ALIPAY, SANDBOX, WECHATPAY_NATIVE, PaymentSettings
from bot.settings_checks import production_secret_errors
from bot.sms.tencent import SmsSettings
from commerce_core.api import SupportSettings


class ConfigurationError(RuntimeError):
    """A setting is missing or wrong; the message says which and how to fix it."""


class BackofficeSettings(BaseSettings):
    """The back office's section (``SHOPBOT_BACKOFFICE_*``): its session secret and lifetime."""

    model_config = SettingsConfigDict(env_prefix="SHOPBOT_BACKOFFICE_", extra="ignore")

    #: encrypts the session cookie: 32+ random characters; generated per data dir in development
    secret: str | None = None
    #: how long a session lasts without a new login (the cookie and the server-side check agree)
    session_hours: int = Field(default=12, ge=1, le=24 * 30)


class SupportDeskSettings(BaseSettings):
    """The live handoff (``SHOPBOT_SUPPORT_*``): how long a shopper waits for an agent before the bot
    takes over again, the staff's working hours (UTC; equal start and end: round the clock), and how
    long the handed-off conversation's history is kept."""

    model_config = SettingsConfigDict(env_prefix="SHOPBOT_SUPPORT_", extra="ignore")

    wait_limit_seconds: int = Field(default=300, ge=10, le=24 * 3600)
    working_hours_start: int = Field(default=0, ge=0, le=23)
    working_hours_end: int = Field(default=0, ge=0, le=23)
    history_retention_days: int = Field(default=30, ge=1, le=3650)
    minutes_per_shopper: int = Field(default=2, ge=1, le=120)

    def core(self) -> SupportSettings:
        return SupportSettings(
            wait_limit_seconds=self.wait_limit_seconds,
            working_hours_start=self.working_hours_start,
            working_hours_end=self.working_hours_end,
            history_retention_days=self.history_retention_days,
            expected_minutes_per_shopper=self.minutes_per_shopper,
        )


class ListingSettings(BaseSettings):
    """Listing moderation (R4.3): when a price change is flagged to staff, when reports take a listing
    off sale (SHOPBOT_LISTINGS_*)."""

    model_config = SettingsConfigDict(env_prefix="SHOPBOT_LISTINGS_", extra="ignore")

    #: a price change of more than this percentage either way goes to the review queue
    price_change_flag_percent: float = Field(default=50.0, gt=0, le=10_000)
    #: distinct shoppers' open reports that take a live listing off sale until a reviewer decides
    report_threshold: int = Field(default=1, ge=1, le=1000)


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
    #: ship paid orders with the simulated carrier this many seconds after payment; 0: merchants ship
    #: (``shopbot demo`` turns it on at 5 s; SHOPBOT_AUTO_SHIP_AFTER_SECONDS=0 turns it off there)
    auto_ship_after_seconds: float = Field(default=0.0, ge=0)
    payment_window_minutes: int = 30
    #: the platform's fee on a merchant's net sales, in percent (the settlement statement; R4.4)
    platform_fee_percent: Decimal = Field(default=Decimal("5"), ge=0, le=100, decimal_places=2)
    nlu_backend: Literal["builtin", "rasa"] = "builtin"
    rasa_url: str | None = None
    # -- one section per channel that needs configuration; each keeps its own variable names
    #    (SHOPBOT_TELEGRAM_*, SHOPBOT_WECHAT_*) and is read here, once, with the rest
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    wechat: WeChatSettings = Field(default_factory=WeChatSettings)
    backoffice: BackofficeSettings = Field(default_factory=BackofficeSettings)
    support: SupportDeskSettings = Field(default_factory=SupportDeskSettings)
    payments: PaymentSettings = Field(default_factory=PaymentSettings)

    @property
    def sandbox_payments(self) -> bool:
        """Whether the sandbox provider exists here (never in production: its pay button is free)."""
        return self.payments.sandbox_enabled(self.env)

    @property
    def web_payment_provider(self) -> str | None:
        """The provider the web chat offers: the one named, or the first configured of Alipay, WeChat
        Pay NATIVE (its QR code) and the sandbox; None when there is none."""
        if self.payments.web is not None:
            return self.payments.web
        for name, configured in (
            (ALIPAY, self.payments.alipay.enabled),
            (WECHATPAY_NATIVE, self.wechat.pay_enabled),
            (SANDBOX, self.sandbox_payments),
        ):
            if configured:
                return name
        return None

    rate: RateLimitSettings = Field(default_factory=RateLimitSettings)
    sms: SmsSettings = Field(default_factory=SmsSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    listings: ListingSettings = Field(default_factory=ListingSettings)
    analytics: AnalyticsSettings = Field(default_factory=AnalyticsSettings)
    #: Kuaidi100 waybill tracking (off without its key, customer id and salt)
    kuaidi100: Kuaidi100Settings = Field(default_factory=Kuaidi100Settings)
    #: anomaly alerts and fake-order signals: a threshold per rule (SHOPBOT_ALERTS_*, bot.alerts)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    #: a turn's processing lease (and its conversation's lock): how long a process that died mid-turn
    #: (kill -9, OOM) keeps a platform's retry of that message waiting; a live turn never takes this long
    turn_lease_seconds: float = Field(default=30.0, gt=0, le=600)
    #: this process's slot, unique among running processes (``shopbot serve`` defaults to host:port):
    #: a restart with the same name takes over its crashed predecessor's unfinished turns at once
    instance: str = ""

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{(self.data_dir / 'shopbot.db').as_posix()}"

    @property
    def key_list(self) -> list[str]:
        return [k.strip() for k in (self.encryption_keys or "").split(",") if k.strip()]


def load_settings(**overrides: object) -> Settings:
    """Read the environment once, fill development secrets, and check the settings.

    Every problem found is collected and reported in one :class:`ConfigurationError`, so an operator
    fixes a production configuration in one pass instead of one restart per missing setting.
    """
    settings = Settings(**overrides)  # type: ignore[arg-type]
    errors: list[str] = []
    if settings.env == "production":
        missing = [
            name
            for name, value in (
                ("SHOPBOT_DATABASE_URL", settings.database_url),
                ("SHOPBOT_ENCRYPTION_KEYS", settings.encryption_keys),
                ("SHOPBOT_BLIND_INDEX_KEY", settings.blind_index_key),
                ("SHOPBOT_BACKOFFICE_SECRET", settings.backoffice.secret),
            )
            if not value
        ]
        if missing:
            errors.append("production needs these settings: " + ", ".join(missing))
        if settings.redis_url.startswith("memory://"):
            errors.append("production needs a real Redis: set SHOPBOT_REDIS_URL=redis://...")
        if settings.database_url and settings.db_url.startswith("sqlite"):
            errors.append("production needs PostgreSQL: set SHOPBOT_DATABASE_URL=postgresql+asyncpg://...")
    else:
        settings = _with_development_secrets(settings)
    errors.extend(payment_errors(settings))
    for key in settings.key_list:
        try:
            Fernet(key.encode())
        except ValueError:
            errors.append("SHOPBOT_ENCRYPTION_KEYS holds a key that is not a Fernet key")
            break
    if settings.env == "production":
        errors.extend(production_secret_errors(settings))
    if errors:
        raise ConfigurationError("; ".join(errors))
    return settings


def payment_errors(settings: Settings) -> list[str]:
    """What is wrong with the payment providers: production has no sandbox and needs a real one;
    a provider named for the web chat must be configured; half an Alipay configuration is an error."""
    errors: list[str] = []
    payments = settings.payments
    if payments.alipay.missing():
        errors.append("Alipay needs these settings too: " + ", ".join(payments.alipay.missing()))
    if settings.env == "production":
        telegram = settings.telegram
        if payments.sandbox:
            errors.append("production has no sandbox payments: unset SHOPBOT_PAYMENTS_SANDBOX")
        if telegram.enabled and telegram.payments == SANDBOX:
            errors.append("production has no sandbox payments: unset SHOPBOT_TELEGRAM_PAYMENTS=sandbox")
        real = (
            payments.alipay.enabled
            or settings.wechat.pay_enabled
            or (telegram.enabled and telegram.telegram_payments)
        )
        if not real:
            errors.append(
                "production needs a real payment provider: set SHOPBOT_ALIPAY_APP_ID, "
                "SHOPBOT_ALIPAY_PRIVATE_KEY and SHOPBOT_ALIPAY_PUBLIC_KEY (Alipay), or "
                "SHOPBOT_WECHAT_APP_ID, SHOPBOT_WECHAT_PAY_MCH_ID and SHOPBOT_WECHAT_PAY_API_KEY "
                "(WeChat Pay), or SHOPBOT_TELEGRAM_PAYMENT_PROVIDER_TOKEN (Telegram Payments)"
            )
    web = payments.web
    if web == SANDBOX and not settings.sandbox_payments:
        errors.append("SHOPBOT_PAYMENTS_WEB=sandbox, but the sandbox is off here")
    if web == ALIPAY and not payments.alipay.enabled:
        errors.append("SHOPBOT_PAYMENTS_WEB=alipay needs the SHOPBOT_ALIPAY_* settings")
    if web == WECHATPAY_NATIVE and not settings.wechat.pay_enabled:
        errors.append("SHOPBOT_PAYMENTS_WEB=wechatpay_native needs the SHOPBOT_WECHAT_PAY_* settings")
    return errors


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
