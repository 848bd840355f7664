"""The whole bot as ``SHOPBOT_ENV=production`` runs it, with its payment platforms behind a local fake."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from bot.bootstrap import build_runtime
from bot.channels.base import ChannelContext
from bot.channels.web import WebChannel
from bot.channels.wechat.settings import WeChatSettings
from bot.infra.redis import make_redis
from bot.payments.settings import PaymentSettings
from bot.runtime import Runtime
from bot.settings import BackofficeSettings, Settings
from commerce_core.api import FakeClock
from tests.commerce.factory import build_shop
from tests.conftest import TEST_KEYS


async def production_runtime(
    db_url: str,
    tmp_path: Path,
    clock: FakeClock,
    interpreter: Any,
    *,
    http: httpx.AsyncClient,
    payments: PaymentSettings | None = None,
    wechat: WeChatSettings | None = None,
) -> Runtime:
    """Production settings (no sandbox) on the test's database, the web chat's payment calls going to
    ``http`` (a MockTransport client), and the small test shop."""
    settings = Settings(
        env="production",
        database_url=db_url,
        data_dir=tmp_path,
        encryption_keys=",".join(TEST_KEYS),
        blind_index_key="test-index-key-for-production-run",
        public_base_url="https://shop.example",
        backoffice=BackofficeSettings(secret="s" * 48),
        payments=payments or PaymentSettings(),
        wechat=wechat or WeChatSettings(),
    )

    def web_channel(context: ChannelContext) -> WebChannel:
        return WebChannel(context, payment_http=http)

    runtime = await build_runtime(
        settings, clock=clock, redis=make_redis("memory://"), interpreter=interpreter,
        channels={"web": web_channel},
    )
    await build_shop(runtime.container.commerce)
    await runtime.refresh_catalogue()
    return runtime
