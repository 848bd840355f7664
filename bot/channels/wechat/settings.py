"""WeChat settings (``SHOPBOT_WECHAT_*``), the ``wechat`` section of :class:`bot.settings.Settings`
(read once by ``load_settings()``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WeChatSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPBOT_WECHAT_", extra="ignore")

    app_id: str = ""
    app_secret: str = ""
    token: str = ""
    #: 43 characters; empty means plaintext mode only
    encoding_aes_key: str = ""
    #: the key before the last rotation, still accepted for a while
    previous_encoding_aes_key: str = ""
    #: ``plain`` answers in clear text, ``safe`` encrypts replies (compatible mode accepts both)
    mode: Literal["plain", "compatible", "safe"] = "compatible"
    #: with an EncodingAESKey set, bodies without ``Encrypt`` are refused unless this is true (during a
    #: switch from plaintext mode): their signature does not cover the body
    allow_plaintext: bool = False
    api_base: str = "https://api.weixin.qq.com"
    #: seconds the pipeline may take before we answer ``success`` and use the customer-service API
    reply_budget: float = 4.0
    #: accepted difference between WeChat's timestamp and our clock
    timestamp_window: int = 300
    #: customer-service window: messages within hours of the shopper's last message
    window_hours: int = 48
    window_messages: int = 5
    #: template message for notifications outside the window (fields: first, keyword1, keyword2, remark)
    notice_template_id: str = ""
    #: subscription message template (fields: thing1, character_string2) when no template is set
    subscribe_template_id: str = ""
    # --- WeChat Pay (v2 API, HMAC-SHA256) ---
    pay_mch_id: str = ""
    pay_api_key: str = ""
    pay_base: str = "https://api.mch.weixin.qq.com"
    pay_trade_type: Literal["NATIVE", "JSAPI"] = "NATIVE"
    #: how requests are signed and how notifications must be signed: a notice signed otherwise
    #: (e.g. MD5 while HMAC-SHA256 is configured) is refused, so the sender cannot pick the weaker one
    pay_sign_type: Literal["HMAC-SHA256", "MD5"] = "HMAC-SHA256"
    pay_notify_path: str = "/wechat/pay/notify"
    #: client certificate (PEM, cert + key) needed by the refund API
    pay_cert_path: str = ""
    #: minutes without a notification before we query the order
    pay_query_after_minutes: int = 2
    public_base_url: str = Field(default="", description="defaults to SHOPBOT_PUBLIC_BASE_URL")

    @property
    def enabled(self) -> bool:
        return bool(self.app_id and self.token)

    @property
    def pay_enabled(self) -> bool:
        return bool(self.app_id and self.pay_mch_id and self.pay_api_key)

    @property
    def aes_keys(self) -> list[str]:
        return [k for k in (self.encoding_aes_key, self.previous_encoding_aes_key) if k]
