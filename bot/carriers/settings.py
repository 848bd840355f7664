"""The Kuaidi100 section of the settings tree (``SHOPBOT_KUAIDI100_*``).

Why a section: the key, customer id and callback salt are Kuaidi100's account secrets, and tests
point ``api_base_url`` at a fake on loopback. Without a key the integration is off and the console
offers only the simulated carrier and typed waybills.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Kuaidi100Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPBOT_KUAIDI100_", extra="ignore")

    #: the account's authorisation key (subscribe and query)
    key: str = ""
    #: the account's customer id (query.do signs with it)
    customer: str = ""
    #: our secret for push callbacks: Kuaidi100 signs each push with MD5(param + salt)
    salt: str = ""
    #: where Kuaidi100 reaches us; empty: the app's public base URL
    callback_base_url: str = ""
    callback_path: str = "/carriers/kuaidi100/callback"
    api_base_url: str = "https://poll.kuaidi100.com"
    timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    #: a waybill with no push for this long is queried (the fallback)
    query_after_minutes: float = Field(default=240.0, gt=0, le=7 * 24 * 60)

    @property
    def enabled(self) -> bool:
        return bool(self.key and self.customer and self.salt)
