"""The platforms around a ``shopbot serve`` process in the fault tests, played the way they really behave.

- :class:`FakePlatforms`: Telegram's Bot API and WeChat's API servers on loopback (a thread of their
  own, so they keep answering while the test blocks on a kill or a restart); they record every message
  the bot sends to each chat / openid.
- :class:`TelegramClient`: Telegram's webhook delivery: an update is POSTed again until it gets a 2xx.
- :class:`WeChatClient`: WeChat's delivery: a 5 s timeout per try, 3 tries in all, the same signed
  request each time; the answer is the passive reply of any try, or customer-service messages after.
- :class:`WebClient`: the web chat page: a failed send is retried with the same message id.

Each client counts what a person would notice: sent, answered, lost, and answered twice.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import redis.asyncio as aioredis
from aiohttp import web

from bot.channels.wechat.security import sha1_signature
from tests.fake_bot_api import bot_api_params
from tests.processes import free_port

BOT_TOKEN = "123456:fault-injection-token"
WEBHOOK_SECRET = "fault_injection_webhook_secret_0123456789"
WECHAT_TOKEN = "faulttoken"
WECHAT_ACCOUNT = "gh_faults"
#: how long a shopper waits for an answer before calling the message lost (generous: loaded machine)
ANSWER_WAIT = 240.0
#: how long before a kill -9 a send counts as in flight (a loaded machine answers in milliseconds)
IN_FLIGHT_WINDOW = 0.5


class FakePlatforms:
    """Telegram's and WeChat's API servers on one loopback port, in a thread with its own loop."""

    def __init__(self) -> None:
        self.port = free_port()
        self.telegram: dict[str, list[str]] = {}  # chat id -> texts sent there (any send* method)
        self.telegram_at: dict[str, list[float]] = {}  # chat id -> when each of those requests came
        self.kills: list[float] = []  # when the harness killed the server (time.monotonic())
        self.wechat: dict[str, list[str]] = {}  # openid -> customer-service messages
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._message_ids = itertools.count(1)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakePlatforms:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(30)
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._bot_api)
        app.router.add_route("*", "/cgi-bin/{path:.*}", self._wechat_api)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def _bot_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        form = await bot_api_params(request)
        chat = str(form.get("chat_id", ""))
        if method.startswith("send") and method != "sendChatAction":
            with self._lock:
                self.telegram.setdefault(chat, []).append(
                    str(form.get("text") or form.get("caption") or method)
                )
                self.telegram_at.setdefault(chat, []).append(time.monotonic())
            message = {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": int(chat) if chat.lstrip("-").isdigit() else 0, "type": "private"},
                "text": str(form.get("text") or ""),
            }
            result: Any = [message] if method == "sendMediaGroup" else message
        elif method == "getMe":
            result = {"id": 123456, "is_bot": True, "first_name": "shopbot", "username": "shopbot"}
        else:
            result = True
        return web.json_response({"ok": True, "result": result})

    async def _wechat_api(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        if path == "token":
            return web.json_response({"access_token": "FAULTTOKEN", "expires_in": 7200})
        if path.startswith("message/custom/send"):
            body = await request.json()
            with self._lock:
                self.wechat.setdefault(str(body.get("touser")), []).append(str(body)[:200])
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    def in_flight_at_kill(self, chat: str, window: float = IN_FLIGHT_WINDOW) -> int:
        """Sends to ``chat`` that arrived just before a kill: their answer may never have reached the
        server, which then cannot tell whether they were delivered."""
        with self._lock:
            times = self.telegram_at.get(chat, [])
            return sum(1 for t in times for k in self.kills if k - window <= t <= k)

    def telegram_count(self, chat: str) -> int:
        with self._lock:
            return len(self.telegram.get(chat, []))

    def wechat_count(self, openid: str) -> int:
        with self._lock:
            return len(self.wechat.get(openid, []))


@dataclass
class Tally:
    """What one platform's shoppers noticed: a message is answered once, lost, or answered twice."""

    channel: str
    sent: int = 0
    answered: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    retries: int = 0
    #: WeChat gave up with no answer to any try and the server never wrote the message down (it was
    #: down or died before reading it, through all three tries): WeChat shows the shopper its own
    #: "cannot serve" notice; nothing was taken, so nothing can be answered
    undeliverable: list[str] = field(default_factory=list)
    #: a reply whose sendMessage was in flight when the server was killed, sent again by the retry:
    #: Telegram's Bot API has no idempotency key, so no sender can know whether that request landed
    #: (everything else is de-duplicated: stored replies, counted sent parts); kept apart and bounded
    resent_in_flight: list[str] = field(default_factory=list)

    @property
    def delivered(self) -> int:
        return self.sent - len(self.undeliverable)

    def line(self) -> str:
        never = f", undeliverable {len(self.undeliverable)}" if self.undeliverable else ""
        if self.resent_in_flight:
            never += f", resent after a kill during its send {len(self.resent_in_flight)}"
        return (
            f"{self.channel:8} sent={self.sent} answered={self.answered} lost={len(self.lost)} "
            f"duplicated={len(self.duplicated)} (platform retries {self.retries}{never})"
        )


async def until(check: Any, wait: float) -> bool:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.1)
    return bool(check())


class TelegramClient:
    """One Telegram chat: each update is POSTed until a 2xx (as Telegram does), then the shopper waits
    for the bot's messages; ``per_turn`` is how many messages one turn of ``text`` sends."""

    update_ids = itertools.count(int(time.time()) % 1_000_000 * 1000)

    def __init__(self, base_url: str, fakes: FakePlatforms, chat: int, tally: Tally, per_turn: int) -> None:
        self.url = f"{base_url}/telegram/webhook"
        self.fakes, self.chat, self.tally, self.per_turn = fakes, chat, tally, per_turn
        self.expected = 0

    async def say(self, http: httpx.AsyncClient, text: str) -> None:
        update_id = next(self.update_ids)
        body = {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": int(time.time()),
                "chat": {"id": self.chat, "type": "private"},
                "from": {"id": self.chat, "is_bot": False, "first_name": "F", "language_code": "en"},
                "text": text,
            },
        }
        headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        self.tally.sent += 1
        deadline = time.monotonic() + ANSWER_WAIT
        while time.monotonic() < deadline:
            try:
                response = await http.post(self.url, json=body, headers=headers, timeout=10)
                if 200 <= response.status_code < 300:
                    break
            except httpx.HTTPError:
                pass
            self.tally.retries += 1
            await asyncio.sleep(0.5)
        self.expected += self.per_turn
        if await until(lambda: self.fakes.telegram_count(str(self.chat)) >= self.expected, ANSWER_WAIT):
            self.tally.answered += 1
        else:
            self.tally.lost.append(f"tg:{self.chat}:{update_id}")

    def check_duplicates(self) -> None:
        extra = self.fakes.telegram_count(str(self.chat)) - self.expected
        if extra > 0:
            explained = min(extra, self.fakes.in_flight_at_kill(str(self.chat)))
            if explained:
                self.tally.resent_in_flight.append(f"tg:{self.chat}: {explained}")
            if extra > explained:
                texts = self.fakes.telegram.get(str(self.chat), [])
                too_many = extra - explained
                self.tally.duplicated.append(f"tg:{self.chat}: {too_many} messages too many: {texts}")


class WeChatClient:
    """One WeChat user: 3 tries of the same signed request, 5 s each; then customer-service messages."""

    msg_ids = itertools.count(7_000_000_000_000_000_000 + int(time.time()) % 1_000_000 * 1000)

    def __init__(
        self, base_url: str, fakes: FakePlatforms, openid: str, tally: Tally, redis_url: str
    ) -> None:
        self.url = f"{base_url}/wechat"
        self.fakes, self.openid, self.tally = fakes, openid, tally
        self.redis_url = redis_url
        self.passive = 0
        self.late_expected = 0

    async def say(self, http: httpx.AsyncClient, text: str) -> None:
        msg_id = next(self.msg_ids)
        ts, nonce = str(int(time.time())), secrets.token_hex(5)
        query = {"timestamp": ts, "nonce": nonce, "signature": sha1_signature(WECHAT_TOKEN, ts, nonce)}
        xml = (
            f"<xml><ToUserName><![CDATA[{WECHAT_ACCOUNT}]]></ToUserName>"
            f"<FromUserName><![CDATA[{self.openid}]]></FromUserName><CreateTime>{ts}</CreateTime>"
            f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content>"
            f"<MsgId>{msg_id}</MsgId></xml>"
        )
        self.tally.sent += 1
        before = self.fakes.wechat_count(self.openid)
        first, reached = time.monotonic(), False
        for attempt in range(3):
            if attempt:  # WeChat's tries are ~5 s apart, however fast the last one failed
                self.tally.retries += 1
                await asyncio.sleep(max(0.0, first + 5 * attempt - time.monotonic()))
            try:
                response = await http.post(self.url, params=query, content=xml.encode(), timeout=5)
            except httpx.HTTPError:  # refused, cut off or timed out: the server may or may not have it
                continue
            reached = True
            if response.status_code == 200 and response.text.startswith("<xml>"):
                self.passive += 1
                self.tally.answered += 1
                return
            if response.status_code == 200:  # "success": the answer comes as customer-service messages
                break
        if not reached and not await self.taken(msg_id):
            self.tally.undeliverable.append(f"wx:{self.openid}:{msg_id}")
            return
        self.late_expected += 1
        if await until(lambda: self.fakes.wechat_count(self.openid) > before, ANSWER_WAIT):
            self.tally.answered += 1
        else:
            self.tally.lost.append(f"wx:{self.openid}:{msg_id}")

    async def taken(self, msg_id: int) -> bool:
        """Whether the server wrote the message down before it went away (then it must answer it)."""
        client = aioredis.from_url(self.redis_url)
        try:
            return bool(await client.exists(f"shopbot:wechat:seen:msg:{msg_id}"))
        finally:
            await client.aclose()

    def check_duplicates(self) -> None:
        extra = self.fakes.wechat_count(self.openid) - self.late_expected
        if extra > 0:
            self.tally.duplicated.append(f"wx:{self.openid}: {extra} late messages too many")


class WebClient:
    """One web chat page (its session cookie in the client's jar): a send that failed or came back
    empty is retried with the same message id; a done turn's retry must replay the same answer."""

    def __init__(self, base_url: str, tally: Tally) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=30)
        self.tally = tally
        self.answers: dict[str, list[dict[str, Any]]] = {}

    async def aclose(self) -> None:
        await self.http.aclose()

    async def say(self, **body: Any) -> list[dict[str, Any]]:
        message_id = secrets.token_hex(8)
        self.tally.sent += 1
        deadline = time.monotonic() + ANSWER_WAIT
        while time.monotonic() < deadline:
            try:
                response = await self.http.post("/api/chat", json={**body, "id": message_id, "lang": "en"})
                replies = response.json()["replies"] if response.status_code == 200 else []
                if replies:
                    self.tally.answered += 1
                    self.answers[message_id] = [r for r in replies if not r.get("pushed")]
                    return list(replies)
            except (httpx.HTTPError, ValueError):
                pass
            self.tally.retries += 1
            await asyncio.sleep(0.5)
        self.tally.lost.append(f"web:{message_id}")
        return []

    async def check_duplicates(self) -> None:
        """Send every answered message again: a done turn answers the same, it does not run twice."""
        for message_id, first in self.answers.items():
            response = await self.http.post(
                "/api/chat", json={"id": message_id, "text": "again?", "lang": "en"}
            )
            ok = response.status_code == 200 and response.headers.get("content-type", "").startswith(
                "application/json"
            )
            again = [r for r in response.json()["replies"] if not r.get("pushed")] if ok else response.text
            if again != first:
                self.tally.duplicated.append(f"web:{message_id} answered differently the second time")
