"""POSTs to the Bot API over kept-alive HTTP/1.1 connections: the channel's calls without aiohttp's client.

Why: in issue 16's profile of the Telegram path, aiohttp's client cost about 90 µs of CPU per Bot API
call (a request and a response object, URL and header multidicts, a timer, tracing hooks, a response
stream), 1.5 calls a turn, for a request whose shape never changes (a POST of a JSON body to one host).
Here a request is one ``bytes`` written to a pooled connection and the answer is parsed by httptools
(the C HTTP parser uvicorn uses: status, ``Content-Length`` or chunked bodies, keep-alive); TLS is
asyncio's. What is kept from aiohttp's pool: at most ``limit`` connections at once, idle ones reused
(dropped after ``IDLE_SECONDS``, before a server is likely to have closed them), a connection whose
answer was not read to its end (an error, a timeout) or that the server closes is never reused.
Uploads (multipart) still go through aiogram's aiohttp session. Errors are ``OSError`` (refused,
reset, closed early, an answer that is not HTTP) and ``TimeoutError``; the caller turns them into
aiogram's network error, which the outbound path retries.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from typing import cast
from urllib.parse import urlsplit

import httptools

#: an idle connection older than this is closed rather than reused (aiohttp's default keep-alive)
IDLE_SECONDS = 15.0


class _Answer(asyncio.Protocol):
    """One connection: writes a request, collects one answer (httptools calls the ``on_*`` methods)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.body: list[bytes] = []
        self.done: asyncio.Future[tuple[int, bytes]] | None = None
        self.keep = False
        self.used_at = 0.0

    # -- asyncio.Protocol --
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # (uvloop's is not a subclass)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(ConnectionError(f"not an HTTP answer: {error}"))

    def eof_received(self) -> bool | None:
        self._fail(ConnectionResetError("the server closed the connection"))
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._fail(exc or ConnectionResetError("the connection was closed"))

    # -- httptools --
    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.keep = self.parser.should_keep_alive()
        if self.done is not None and not self.done.done():
            self.done.set_result((self.parser.get_status_code(), b"".join(self.body)))

    # -- ours --
    def _fail(self, error: Exception) -> None:
        self.keep = False
        if self.done is not None and not self.done.done():
            self.done.set_exception(error)

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        if self.transport is None or self.transport.is_closing():
            raise ConnectionResetError("the connection was closed")
        self.body, self.keep = [], False
        self.parser = httptools.HttpResponseParser(self)
        self.done = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.done

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class KeepAlivePool:
    """JSON POSTs to one origin (``scheme://host:port``), at most ``limit`` connections at once."""

    def __init__(self, base_url: str, limit: int) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.tls = parts.scheme == "https"
        self.port = parts.port or (443 if self.tls else 80)
        self._ssl = ssl.create_default_context() if self.tls else None
        self._host_header = parts.netloc.rsplit("@", 1)[-1]
        self._slots = asyncio.Semaphore(limit)
        self._idle: list[_Answer] = []

    async def post(self, path: str, body: bytes, seconds: float) -> tuple[int, bytes]:
        """``(status, body)`` of ``POST path`` with a JSON ``body``; raises OSError or TimeoutError."""
        request = (
            b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
            % (
                path.encode(),
                self._host_header.encode(),
                len(body),
                body,
            )
        )
        async with self._slots, asyncio.timeout(seconds):
            connection = self._take() or await self._connect()
            try:
                answer = await connection.exchange(request)
            except BaseException:
                connection.close()
                raise
            if connection.keep:
                connection.used_at = time.monotonic()
                self._idle.append(connection)
            else:
                connection.close()
            return answer

    def _take(self) -> _Answer | None:
        while self._idle:
            connection = self._idle.pop()
            fresh = time.monotonic() - connection.used_at < IDLE_SECONDS
            if fresh and connection.transport is not None and not connection.transport.is_closing():
                return connection
            connection.close()
        return None

    async def _connect(self) -> _Answer:
        loop = asyncio.get_running_loop()
        _transport, connection = await loop.create_connection(
            _Answer, self.host, self.port, ssl=self._ssl, server_hostname=self.host if self.tls else None
        )
        return connection

    def close(self) -> None:
        for connection in self._idle:
            connection.close()
        self._idle.clear()
