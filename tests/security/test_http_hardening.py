"""Findings 8 and 11 at the HTTP edge: deep JSON gets 400 (not 500) on the web chat API and the
Telegram webhook path; every response, errors included, carries the security headers; ``Server``
names no versions."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import fakeredis
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.http.app import create_app
from bot.infra.input import MAX_JSON_DEPTH, json_depth, too_deep
from bot.settings import Settings

Client = TestClient[web.Request, web.Application]
ORIGIN = {"Origin": "http://127.0.0.1"}


def _bare_runtime() -> Any:
    """Just what create_app needs, for routes a test adds itself."""
    container = SimpleNamespace(redis=fakeredis.FakeAsyncRedis(), settings=Settings())
    pipeline = SimpleNamespace(observer=None)  # no metrics: bot.observability installs only its middleware
    return SimpleNamespace(routes=(), container=container, pipeline=pipeline)


def _deep(levels: int) -> bytes:
    return b'{"text":' + b"[" * levels + b"]" * levels + b"}"


async def test_deep_json_on_the_chat_api_is_a_400(client: Client) -> None:
    for levels in (1_000, 100_000 // 2 // 2):
        response = await client.post(
            "/api/chat", data=_deep(levels), headers={"Content-Type": "application/json", **ORIGIN}
        )
        assert response.status == 400, levels
        assert (await response.json())["error"] == "json_too_deep"
    # a content type that lies does not get past either
    response = await client.post("/api/chat", data=_deep(2_000), headers={"Content-Type": "text/plain"})
    assert response.status in (400, 413)


async def test_deep_json_is_refused_on_every_route_before_the_handler_runs() -> None:
    reached: list[str] = []

    async def webhook(request: web.Request) -> web.Response:
        reached.append("handler")
        await request.json()
        return web.Response(text="ok")

    runtime = _bare_runtime()
    app = create_app(runtime, extra_routes=[lambda a: a.router.add_post("/telegram/webhook", webhook)])
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        response = await client.post("/telegram/webhook", data=_deep(1_500))
        assert response.status == 400 and not reached
        response = await client.post("/telegram/webhook", json={"update_id": 1, "message": {"text": "[{"}})
        assert response.status == 200 and reached == ["handler"]


def test_brackets_in_strings_do_not_count() -> None:
    assert json_depth(b'{"a": "[[[[[[[[", "b": [{"c": "\\"]]]"}]}') == 3
    assert not too_deep(b'{"text": "' + b"[" * 500 + b'"}')
    assert too_deep(b"[" * (MAX_JSON_DEPTH + 1))


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/no-such-page", 404),
        ("PUT", "/api/chat", 405),
        ("POST", "/api/chat", 403),  # cross-site
        ("GET", "/healthz", 200),
    ],
)
async def test_security_headers_on_every_response_and_no_versions(
    client: Client, method: str, path: str, status: int
) -> None:
    response = await client.request(
        method, path, data=b"not json", headers={"Origin": "https://evil.example"}
    )
    assert response.status == status
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Server"] == "shopbot"


async def test_a_crashing_handler_still_gets_headers_and_no_versions() -> None:
    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("bug")

    runtime = _bare_runtime()
    app = create_app(runtime, extra_routes=[lambda a: a.router.add_get("/boom", boom)])
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        response = await client.get("/boom")
        assert response.status == 500
        assert response.headers["X-Frame-Options"] == "DENY" and response.headers["Server"] == "shopbot"
        assert "aiohttp" not in (await response.text()).lower()
