"""The channel paths of ``bench/channels.py``: one shopper turn each, as its channel delivers it.

Every path offers ``turn(conversation, n, text, payload) -> button payloads shown``, and :func:`drive`
runs the same seeded 8-turn journeys (``bench.turns.JOURNEY``) through any of them, so the figures of
the paths differ only in the way a turn arrives and leaves:

* :class:`PipelinePath`: ``pipeline.handle`` (the reference);
* :class:`TelegramPath`: ``POST /telegram/webhook`` on the HTTP app -> durable inbox -> the update
  worker (lanes) -> dispatcher -> pipeline -> rendering -> a fake Bot API in another process (the
  turn is over when the worker acknowledged the update); send limits on a virtual clock. The load
  generator runs in this process, so it is kept cheap (:class:`KeepAlivePoster`): update bodies are
  filled into a pre-serialised template and posted as pre-built HTTP/1.1 requests over kept-alive
  connections, so the CPU per turn is the server's (aiohttp's request parsing, the webhook, the
  inbox, the workers, rendering and Bot API calls), not a client library's;
* :class:`WeChatPath`: ``POST /wechat`` in safe mode (signed, AES-encrypted), answered passively;
  posted like Telegram's updates, as pre-built HTTP/1.1 requests over kept-alive connections
  (:class:`SignedPoster`);
* :class:`WebPath`: ``POST /api/chat`` with the session cookie, against one or several servers in
  turn (round robin per request).

Buttons: Telegram shoppers tap (a callback query with the button's packed data), WeChat shoppers reply
with the button's number, web shoppers send its payload; the benchmark learns which buttons a turn
showed by watching the channel's own renderer, not by parsing what went over the wire.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import ClientSession, DummyCookieJar, TCPConnector

from bench._common import summary
from bench.turns import JOURNEY, PICKS
from bot.channels.telegram import callbacks
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.http import SECRET_HEADER
from bot.channels.telegram.inbox import StoredUpdate
from bot.channels.wechat.channel import WeChatChannel
from bot.channels.wechat.security import Cryptor, sha1_signature
from dialogs.messages import InboundMessage

SEED = 16
#: every journey of every round is a new shopper (a shopper's second journey would be a different
#: thing: a repeated update is answered from its stored reply, a finished checkout is not restarted)
SHOPPERS = itertools.count(1)
UPDATE_ID = re.compile(rb'"update_id":\s*(\d+)')
CONTENT_LENGTH = re.compile(rb"(?i)\r\ncontent-length:\s*(\d+)")
#: the two kinds of update a shopper sends, pre-serialised (update_id, ids, chat and text filled in)
PERSON = b'{"id":%s,"is_bot":false,"first_name":"B","language_code":"zh-hans"}'
CHAT = b'{"id":%s,"type":"private","first_name":"B"}'
MESSAGE_UPDATE = (
    b'{"update_id":%d,"message":{"message_id":%d,"date":1700000000,"chat":' + CHAT
    + b',"from":' + PERSON + b',"text":%s}}'
)  # fmt: skip
CALLBACK_UPDATE = (
    b'{"update_id":%d,"callback_query":{"id":"%d","from":' + PERSON + b',"chat_instance":"b",'
    b'"message":{"message_id":%d,"date":1700000000,"chat":' + CHAT + b',"text":"."},"data":%s}}'
)  # fmt: skip


@dataclass
class Conversation:
    journey: int
    user: str
    data: dict[str, Any] = field(default_factory=dict)


Turn = Callable[[Conversation, int, str, str | None], Awaitable[list[str]]]


async def drive(
    turn: Turn, new_user: Callable[[int], str], *, concurrency: int, journeys: int
) -> dict[str, float]:
    """``journeys`` journeys, ``concurrency`` at a time; turns/s and latencies."""
    picks = random.Random(SEED)
    chosen = [picks.choice(PICKS) for _ in range(journeys)]
    latencies: list[float] = []
    queue = list(range(journeys))[::-1]

    async def one(conversation: Conversation) -> None:
        buttons: list[str] = []
        for n, line in enumerate(JOURNEY):
            payload = None
            if line == "@pick":
                line = chosen[conversation.journey]
            elif line in ("@add", "@pay"):
                prefix = "add:" if line == "@add" else "sbxpay:"
                found = [p for p in buttons if p.startswith(prefix)]
                if not found:
                    raise RuntimeError(f"turn {n}: no {prefix} button among {buttons}")
                payload = found[0]
            started = time.perf_counter()
            buttons = await turn(conversation, n, "" if payload else line, payload)
            latencies.append(time.perf_counter() - started)

    async def worker() -> None:
        while queue:
            j = queue.pop()
            await one(Conversation(j, new_user(j)))

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "turns": len(latencies),
        "turns_per_s": round(len(latencies) / wall, 1),
        # this process's CPU (server, workers and the load generator; not PostgreSQL's or Redis's)
        "cpu_ms_per_turn": round(cpu / len(latencies) * 1000, 3),
        **summary(latencies),
    }


class PipelinePath:
    def __init__(self, runtime: Any, channel: str = "test") -> None:
        self.pipeline = runtime.pipeline
        self.channel = channel
        self.run = secrets.token_hex(3)

    def user(self, journey: int) -> str:
        return f"b{self.run}-{next(SHOPPERS)}"

    async def turn(self, c: Conversation, n: int, text: str, payload: str | None) -> list[str]:
        message = InboundMessage(self.channel, c.user, c.user, text, payload, dedup_key=f"{c.user}:{n}")
        replies = await self.pipeline.handle(message)
        return [b.payload for r in replies for b in getattr(r, "buttons", ())]


class KeepAlivePoster:
    """The cheapest honest HTTP/1.1 client for one URL: pre-built request heads, kept-alive connections.

    Why: the bench process also runs the load generator, and a client library's per-request work
    (URL and header objects, a response parser) was charged to the Telegram path's CPU per turn. The
    server still parses every request in full; only the client side is trimmed to writing bytes and
    reading the status line, the headers and a ``Content-Length`` body."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        lines = [f"POST {parts.path or '/'} HTTP/1.1", f"Host: {parts.netloc}", "Connection: keep-alive"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self.head = ("\r\n".join(lines) + "\r\nContent-Length: ").encode()
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def post(self, body: bytes) -> tuple[int, bytes]:
        """``(status, body)`` of one POST."""
        status, _head, answer = await self.exchange(b"%s%d\r\n\r\n%s" % (self.head, len(body), body))
        return status, answer

    async def exchange(self, request: bytes) -> tuple[int, bytes, bytes]:
        """Send one whole request; ``(status, answer head, answer body)``. A connection goes back to
        the pool after a full answer (one with a ``Content-Length`` and no ``Connection: close``)."""
        reader, writer = self.idle.pop() if self.idle else await asyncio.open_connection(self.host, self.port)
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        found = CONTENT_LENGTH.search(head)
        answer = await reader.readexactly(int(found.group(1))) if found else b""
        if found and b"connection: close" not in head.lower():
            self.idle.append((reader, writer))
        else:
            writer.close()
        return int(head[9:12]), head, answer

    def close(self) -> None:
        for _reader, writer in self.idle:
            writer.close()
        self.idle.clear()


class TelegramPath:
    """Updates through the webhook; done when the worker acknowledged them."""

    def __init__(self, channel: TelegramChannel, http: ClientSession, base_url: str, secret: str) -> None:
        self.channel = channel
        self.poster = KeepAlivePoster(
            f"{base_url}{channel.settings.webhook_path}",
            {SECRET_HEADER: secret, "Content-Type": "application/json"},
        )
        self.done: dict[int, asyncio.Future[None]] = {}
        self.buttons: dict[str, list[str]] = {}
        self.ids = itertools.count(random.randrange(10**9, 2 * 10**9))
        self.chats = random.randrange(10**8, 9 * 10**8) * 1000
        work, render = channel._work_on, channel.renderer.render

        async def watched_work(item: StoredUpdate) -> bool:
            finished = await work(item)
            found = UPDATE_ID.search(item.body[:64])
            future = self.done.pop(int(found.group(1)), None) if found and finished else None
            if future is not None and not future.done():
                future.set_result(None)
            return finished

        async def watched_render(replies: list[Any], ctx: Any) -> Any:
            self.buttons[str(ctx.chat_id)] = [b.payload for r in replies for b in getattr(r, "buttons", ())]
            return await render(replies, ctx)

        channel._work_on = watched_work  # type: ignore[method-assign]
        channel.renderer.render = watched_render  # type: ignore[method-assign]

    def user(self, journey: int) -> str:
        return str(self.chats + next(SHOPPERS))

    async def turn(self, c: Conversation, n: int, text: str, payload: str | None) -> list[str]:
        update_id, chat = next(self.ids), c.user.encode()
        if payload is None:
            body = MESSAGE_UPDATE % (update_id, n + 1, chat, chat, json.dumps(text).encode())
        else:
            data = await callbacks.pack(payload, self.channel.redis)
            body = CALLBACK_UPDATE % (update_id, update_id, chat, n, chat, json.dumps(data).encode())
        future = asyncio.get_running_loop().create_future()
        self.done[update_id] = future
        self.buttons.pop(c.user, None)
        status, answer = await self.poster.post(body)
        if status != 200:
            raise RuntimeError(f"webhook answered {status}: {answer[:200]!r}")
        await future
        return self.buttons.get(c.user, [])


class SignedPoster(KeepAlivePoster):
    """:class:`KeepAlivePoster` for a URL whose query changes with every request (WeChat signs each).

    Why not aiohttp's client: its request, URL and response objects were about 6 % of the WeChat
    run's profiled CPU in this process (issue 16), billed to the path though WeChat's servers send
    the requests."""

    def __init__(self, url: str) -> None:
        super().__init__(url, {"Content-Type": "text/xml"})
        self.path = (urlsplit(url).path or "/").encode()
        self.rest = self.head.split(b"\r\n", 1)[1]  # the head after the request line

    async def post_query(self, query: bytes, body: bytes) -> tuple[int, bytes]:
        """``(status, body)`` of ``POST <path>?<query>``."""
        request = b"POST %s?%s HTTP/1.1\r\n%s%d\r\n\r\n%s" % (self.path, query, self.rest, len(body), body)
        status, _head, answer = await self.exchange(request)
        return status, answer


class WeChatPath:
    """Signed, encrypted messages to ``POST /wechat``; the passive reply ends the turn."""

    def __init__(
        self, channel: WeChatChannel, http: ClientSession, base_url: str, keys: tuple[str, str, str]
    ) -> None:
        token, aes_key, app_id = keys
        self.poster = SignedPoster(f"{base_url}/wechat")
        self.token = token
        # the channel's own cipher (built once, as WeChat's servers keep theirs): wechatpy's
        # ``encrypt_message`` rebuilt it per message and charged that to the path
        self.crypto = Cryptor(token, app_id, [aes_key])
        self.now = channel.now
        self.buttons: dict[str, list[str]] = {}
        self.ids = itertools.count(random.randrange(10**15, 2 * 10**15))
        self.run = secrets.token_hex(3)
        self.passive = 0  # turns answered in the HTTP response (within WeChat's 5 s)
        self.sent = 0
        remember = channel.choices.remember

        self.late: dict[str, asyncio.Future[None]] = {}

        async def watched(openid: str, buttons: list[Any]) -> None:
            self.buttons[openid] = [b.payload for b in buttons]
            await remember(openid, buttons)
            late = self.late.pop(openid, None)
            if late is not None and not late.done():
                late.set_result(None)

        channel.choices.remember = watched  # type: ignore[method-assign]
        remember_on = channel.choices.remember_on

        def watched_on(batch: Any, openid: str, buttons: list[Any]) -> None:
            # the passive reply's buttons, queued with the reply (its HTTP answer ends the turn)
            self.buttons[openid] = [b.payload for b in buttons]
            remember_on(batch, openid, buttons)

        channel.choices.remember_on = watched_on  # type: ignore[method-assign]

    def user(self, journey: int) -> str:
        return f"o{self.run}{next(SHOPPERS)}"

    async def turn(self, c: Conversation, n: int, text: str, payload: str | None) -> list[str]:
        if payload is not None:  # WeChat shoppers answer with the button's number
            text = str(self.buttons.get(c.user, []).index(payload) + 1)
        self.buttons.pop(c.user, None)
        msg_id = next(self.ids)
        xml = (
            f"<xml><ToUserName>gh</ToUserName><FromUserName>{c.user}</FromUserName>"
            f"<CreateTime>{int(self.now())}</CreateTime><MsgType>text</MsgType>"
            f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>"
        )
        timestamp, nonce = str(int(self.now())), secrets.token_hex(4)
        encrypt = self.crypto.seal(xml)
        query = (
            f"timestamp={timestamp}&nonce={nonce}&signature={sha1_signature(self.token, timestamp, nonce)}"
            f"&encrypt_type=aes&msg_signature={sha1_signature(self.token, timestamp, nonce, encrypt)}"
        )  # (every value is URL-safe: digits and hex)
        body = f"<xml><ToUserName>gh</ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        status, answer = await self.poster.post_query(query.encode(), body.encode())
        if status != 200:
            raise RuntimeError(f"/wechat answered {status}: {answer[:200]!r}")
        self.sent += 1
        if answer != b"success":
            self.passive += 1
        elif c.user not in self.buttons:  # answered late (customer-service messages): wait for it
            late = self.late[c.user] = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait_for(late, 60)
            except TimeoutError:
                self.late.pop(c.user, None)
        return self.buttons.get(c.user, [])


class WebPath:
    """``POST /api/chat`` with each conversation's session cookie, servers taken in turn.

    Posted with :class:`SessionPoster` (pre-built request heads over kept-alive connections, as the
    Telegram path's updates are): the aiohttp client's per-request work (URL, header and cookie
    objects, a response parser) was charged to the web path's CPU per turn, about a third of a
    millisecond in issue 16's profile. The server parses every request in full as before."""

    def __init__(self, base_urls: list[str]) -> None:
        json_body = {"Content-Type": "application/json"}
        self.posters = [SessionPoster(f"{base}/api/chat", json_body) for base in base_urls]
        self.next = itertools.cycle(range(len(self.posters)))

    def user(self, journey: int) -> str:
        return str(next(SHOPPERS))  # the server names the shopper (a new session cookie)

    async def turn(self, c: Conversation, n: int, text: str, payload: str | None) -> list[str]:
        body = {"payload": payload} if payload else {"text": text}
        body["id"] = f"{c.user}:{n}"
        poster = self.posters[next(self.next)]
        status, answer, cookie = await poster.post_as(json.dumps(body).encode(), c.data.get("cookie"))
        if status != 200:
            raise RuntimeError(f"/api/chat answered {status}: {answer[:200]!r}")
        if cookie is not None:
            c.data["cookie"] = cookie
        return [b["payload"] for r in json.loads(answer)["replies"] for b in r.get("buttons", ())]

    def close(self) -> None:
        for poster in self.posters:
            poster.close()


SET_SESSION = re.compile(rb"(?i)\r\nset-cookie:\s*(shopbot_session=[^;\r]*)")


class SessionPoster(KeepAlivePoster):
    """:class:`KeepAlivePoster` with a per-request ``Cookie`` header and the session cookie the
    answer sets (``(status, body, cookie or None)``)."""

    async def post_as(self, body: bytes, cookie: str | None) -> tuple[int, bytes, str | None]:
        head = self.head
        if cookie is not None:  # the head ends with "Content-Length: ": the cookie goes before it
            head = b"%sCookie: %s\r\nContent-Length: " % (head[: -len(b"Content-Length: ")], cookie.encode())
        status, answer_head, answer = await self.exchange(b"%s%d\r\n\r\n%s" % (head, len(body), body))
        issued = SET_SESSION.search(answer_head)
        return status, answer, issued.group(1).decode() if issued else None


def client(concurrency: int) -> ClientSession:
    """One keep-alive pool for a path's shoppers (cookies are set per conversation, by hand)."""
    return ClientSession(connector=TCPConnector(limit=concurrency), cookie_jar=DummyCookieJar())
