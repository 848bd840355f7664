"""Finding 6 on the web chat API: a client over its per-session or per-IP budget gets 429 before any
work is done, other clients go on; the limits are settings."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.http.app import RUNTIME
from bot.infra.flood import RateLimitSettings

Client = TestClient[web.Request, web.Application]

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _limit(client: Client, **limits: int) -> None:
    container = client.app[RUNTIME].container
    container.settings = container.settings.model_copy(update={"rate": RateLimitSettings(**limits)})


async def _inbox(client: Client, session: str) -> int:
    response = await client.get("/api/inbox", params={"user": "u1"}, cookies={"shopbot_session": session})
    return response.status


async def test_one_session_over_its_budget_gets_429_and_others_go_on(client: Client) -> None:
    _limit(client, web_per_session=5, web_per_ip=1000)
    statuses = [await _inbox(client, "session-a") for _ in range(8)]
    assert statuses[:5] == [200] * 5 and statuses[5:] == [429] * 3
    assert await _inbox(client, "session-b") == 200
    response = await client.get("/api/inbox", params={"user": "u1"}, cookies={"shopbot_session": "session-a"})
    assert response.headers["Retry-After"] == "60" and (await response.json())["error"] == "rate_limited"


async def test_one_ip_over_its_budget_gets_429_whatever_its_cookies(client: Client) -> None:
    _limit(client, web_per_session=1000, web_per_ip=6)
    statuses = [await _inbox(client, f"fresh-{i}") for i in range(9)]
    assert statuses.count(200) == 6 and statuses[6:] == [429] * 3
    assert (await client.get("/healthz")).status == 200  # only the chat API is limited
