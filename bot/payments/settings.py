"""The payments section of the settings tree (``SHOPBOT_PAYMENTS_*``, ``SHOPBOT_ALIPAY_*``).

Why explicit: the sandbox used to be on everywhere, so production took free orders (issue 11, finding
1). Now each environment says which providers exist; production has no sandbox at all and must name
at least one real provider (checked with every other setting by :func:`bot.settings.load_settings`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: what the web chat can offer: Alipay's QR (precreate), WeChat Pay NATIVE's QR, or the sandbox
WebProvider = Literal["alipay", "wechatpay_native", "sandbox"]
SANDBOX = "sandbox"
ALIPAY = "alipay"
WECHATPAY_NATIVE = "wechatpay_native"


class AlipaySettings(BaseSettings):
    """Alipay open platform (RSA2): our app's private key signs requests, Alipay's public key checks
    its answers and notifications."""

    model_config = SettingsConfigDict(env_prefix="SHOPBOT_ALIPAY_", extra="ignore")

    app_id: str = ""
    #: the app's RSA private key (PEM) that signs every request
    private_key: str = ""
    #: Alipay's RSA public key (PEM) from the open platform console; verifies answers and notifications
    public_key: str = ""
    gateway: str = "https://openapi.alipay.com/gateway.do"
    notify_path: str = "/payments/alipay/notify"
    timeout_seconds: float = Field(default=10.0, gt=0, le=60)

    @property
    def enabled(self) -> bool:
        return bool(self.app_id and self.private_key and self.public_key)

    def missing(self) -> list[str]:
        """The settings still needed once any of them is given (half a configuration is an error)."""
        given = {
            "SHOPBOT_ALIPAY_APP_ID": self.app_id,
            "SHOPBOT_ALIPAY_PRIVATE_KEY": self.private_key,
            "SHOPBOT_ALIPAY_PUBLIC_KEY": self.public_key,
        }
        return [name for name, value in given.items() if not value] if any(given.values()) else []


class PaymentSettings(BaseSettings):
    """Which providers exist in this environment and which the web chat offers."""

    model_config = SettingsConfigDict(env_prefix="SHOPBOT_PAYMENTS_", extra="ignore")

    #: the sandbox provider (no money moves): None = on in development and test, off in production;
    #: production refuses True
    sandbox: bool | None = None
    #: the web chat's provider; None = the first configured of Alipay, WeChat Pay NATIVE, the sandbox
    web: WebProvider | None = None
    alipay: AlipaySettings = Field(default_factory=AlipaySettings)

    def sandbox_enabled(self, env: str) -> bool:
        return env != "production" if self.sandbox is None else self.sandbox
