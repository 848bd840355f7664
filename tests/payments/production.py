"""The whole bot as ``SHOPBOT_ENV=production`` runs it, with its payment platforms behind a local fake."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from aiohttp import web
from aiohttp.test_utils import TestClient

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

Client = TestClient[web.Request, web.Application]


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
        settings,
        clock=clock,
        redis=make_redis("memory://"),
        interpreter=interpreter,
        channels={"web": web_channel},
    )
    await build_shop(runtime.container.commerce)
    await runtime.refresh_catalogue()
    return runtime


#: each test shopper's web session cookie: production cookies are Secure and the test server speaks
#: plain http, so the client's jar would not send them back; the tests send them as a browser on https
_SESSIONS: dict[tuple[int, str], str] = {}


async def chat(client: Client, user: str, **body: Any) -> list[dict[str, Any]]:
    """One web chat turn as the shopper ``user`` (a session of its own, not a name the server trusts)."""
    key = (id(client), user)
    headers = {"Cookie": f"shopbot_session={_SESSIONS[key]}"} if key in _SESSIONS else {}
    response = await client.post("/api/chat", json=body, headers=headers)
    assert response.status == 200, await response.text()
    if (cookie := response.cookies.get("shopbot_session")) is not None:
        _SESSIONS[key] = cookie.value
    replies: list[dict[str, Any]] = (await response.json())["replies"]
    return replies


def session_headers(client: Client, user: str) -> dict[str, str]:
    """The ``Cookie`` header of ``user``'s web session (the inbox belongs to the session)."""
    return {"Cookie": f"shopbot_session={_SESSIONS[(id(client), user)]}"}
