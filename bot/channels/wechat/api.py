"""WeChat's HTTP API, called asynchronously with httpx (never wechatpy's synchronous client).

The ``access_token`` lives 7200 s and fetching a new one invalidates the old, so every process shares
one cached token in Redis: it is refreshed before it expires by whoever holds a Redis lock (single
flight: the others wait and read the new one), and a call answered with 40001/42001 (token invalid or
expired) invalidates that token, refreshes once and retries once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
import redis.asyncio as aioredis

log = logging.getLogger(__name__)
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
#: the customer-service window is closed (45015) or its message allowance used up (45047)
WINDOW_ERRORS = frozenset({45015, 45047})
REFRESH_MARGIN = 300


class WeChatApiError(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeChat API error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class AccessTokens:
    """One access_token per app id, shared by all processes through Redis."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        redis: aioredis.Redis,
        app_id: str,
        app_secret: str,
        *,
        base: str = "https://api.weixin.qq.com",
        now: Callable[[], float] = time.time,
    ) -> None:
        self._http = http
        self._redis = redis
        self._app_id = app_id
        self._secret = app_secret
        self._base = base.rstrip("/")
        self._now = now
        self._local = asyncio.Lock()
        self.key = f"shopbot:wechat:token:{app_id}"
        self.fetches = 0

    async def get(self) -> str:
        cached = await self._redis.get(self.key)
        if cached:
            return bytes(cached).decode()
        async with self._local:  # one coroutine per process asks Redis for the lock
            return await self._refresh(stale=None)

    async def invalidate(self, token: str) -> str:
        """``token`` was refused: refresh unless another process already has."""
        async with self._local:
            return await self._refresh(stale=token)

    async def _refresh(self, stale: str | None) -> str:
        async with self._redis.lock(f"{self.key}:lock", timeout=30, blocking_timeout=30):
            cached = await self._redis.get(self.key)
            if cached and bytes(cached).decode() != stale:
                return bytes(cached).decode()
            response = await self._http.get(
                f"{self._base}/cgi-bin/token",
                params={"grant_type": "client_credential", "appid": self._app_id, "secret": self._secret},
            )
            self.fetches += 1
            data = response.json()
            token = data.get("access_token")
            if not token:
                raise WeChatApiError(int(data.get("errcode", -1)), str(data.get("errmsg", "no token")))
            lifetime = max(60, int(data.get("expires_in", 7200)) - REFRESH_MARGIN)
            await self._redis.set(self.key, str(token).encode(), ex=lifetime)
            return str(token)


class WeChatApi:
    """The few official-account API calls the bot makes."""

    def __init__(self, http: httpx.AsyncClient, tokens: AccessTokens, base: str) -> None:
        self._http = http
        self.tokens = tokens
        self._base = base.rstrip("/")

    async def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        token = await self.tokens.get()
        for attempt in range(2):
            response = await self._http.post(
                f"{self._base}{path}",
                params={"access_token": token},
                content=json.dumps(body, ensure_ascii=False).encode(),
                headers={"Content-Type": "application/json; charset=utf-8"},
            )
            response.raise_for_status()
            data: dict[str, Any] = response.json()
            code = int(data.get("errcode", 0) or 0)
            if code in TOKEN_ERRORS and attempt == 0:
                token = await self.tokens.invalidate(token)
                continue
            if code != 0:
                raise WeChatApiError(code, str(data.get("errmsg", "")))
            return data
        raise AssertionError("unreachable")

    async def send_custom(self, message: dict[str, Any]) -> None:
        await self.call("/cgi-bin/message/custom/send", message)

    async def send_template(self, message: dict[str, Any]) -> None:
        await self.call("/cgi-bin/message/template/send", message)

    async def send_subscribe(self, message: dict[str, Any]) -> None:
        await self.call("/cgi-bin/message/subscribe/bizsend", message)

    async def create_menu(self, menu: dict[str, Any]) -> None:
        await self.call("/cgi-bin/menu/create", menu)


class Recorder:
    """A fake WeChat for replay and tests: answers every call with success and remembers it."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/cgi-bin/token"):
            return httpx.Response(200, json={"access_token": "RECORDED_TOKEN", "expires_in": 7200})
        body = json.loads(request.content) if request.content else None
        self.calls.append({"api": request.url.path, "body": body})
        return httpx.Response(200, json={"errcode": 0, "errmsg": "ok"})

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)
