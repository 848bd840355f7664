"""Telegram settings (``SHOPBOT_TELEGRAM_*``), the ``telegram`` section of :class:`bot.settings.Settings`
(read once by ``load_settings()``)."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class TelegramSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPBOT_TELEGRAM_", extra="ignore", populate_by_name=True)

    #: from @BotFather; TELEGRAM_BOT_TOKEN (what the demo mentions) works too
    bot_token: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SHOPBOT_TELEGRAM_BOT_TOKEN", "TELEGRAM_BOT_TOKEN", "bot_token"),
    )
    #: X-Telegram-Bot-Api-Secret-Token; webhook mode refuses to start without one (1-256 of A-Za-z0-9_-)
    webhook_secret: str | None = None
    webhook_path: str = "/telegram/webhook"
    #: auto: webhook when a secret is set, long polling otherwise
    mode: Literal["auto", "webhook", "polling", "off"] = "auto"
    #: from @BotFather (Payments); empty means only Telegram Stars (XTR) invoices can be sent
    payment_provider_token: str | None = None
    #: which provider Telegram shoppers pay with: auto = Telegram Payments when a provider token is set
    #: (orders priced in Stars, XTR, need no token), the sandbox otherwise
    payments: Literal["auto", "telegram", "sandbox"] = "auto"
    #: the update worker's name in the consumer group; keep it stable across restarts of one process
    consumer: str = "worker-1"
    workers: int = 16  # chats processed concurrently by the update worker
    batch: int = 64  # updates read from the inbox at a time
    claim_idle_seconds: float = 60.0  # take over updates a crashed worker left unacknowledged
    pre_checkout_deadline: float = 7.0  # Telegram's limit is 10 s
    #: outbound limits (Telegram: ~1 msg/s per chat, 20/min per group, ~30/s overall)
    per_chat_rate: float = 1.0
    per_chat_burst: int = 3
    per_group_per_minute: int = 20
    global_rate: float = 30.0
    max_attempts: int = 5
    #: the staff group (a supergroup with forum topics, the bot an admin who may manage topics) where
    #: handed-off conversations get a topic each; unset: no staff group. Its texts' language.
    staff_group_id: int | None = None
    staff_group_language: Literal["zh-Hans", "zh-Hant", "en"] = "zh-Hans"
    #: the Bot API server (a self-hosted ``telegram-bot-api``, or a local fake in the fault tests);
    #: empty: https://api.telegram.org
    api_base: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.bot_token) and self.mode != "off"

    @property
    def telegram_payments(self) -> bool:
        return self.payments == "telegram" or (self.payments == "auto" and bool(self.payment_provider_token))

    @property
    def webhook_mode(self) -> bool:
        return self.enabled and (
            self.mode == "webhook" or (self.mode == "auto" and bool(self.webhook_secret))
        )

    @property
    def polling_mode(self) -> bool:
        return self.enabled and (self.mode == "polling" or (self.mode == "auto" and not self.webhook_secret))
