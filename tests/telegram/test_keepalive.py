"""The Bot API's kept-alive connections (``keepalive``) against a raw HTTP server on loopback: answers
read whole (by length or chunked), connections reused, and a server that closes, hangs or talks
nonsense turns into aiogram's network error, which the outbound path retries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import SendMessage

from bot.channels.telegram.botapi import BotApiSession
from bot.channels.telegram.keepalive import KeepAlivePool
from bot.channels.telegram.session import TEST_TOKEN

OK = b'{"ok":true,"result":true}'
Answer = Callable[[bytes], bytes | None]  # the request's body -> the raw answer (None: hang up)


def by_length(body: bytes, *, close: bool = False) -> bytes:
    connection = b"Connection: close\r\n" if close else b""
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), connection, body)


class RawServer:
    """Reads one request at a time per connection; answers with ``answer``; counts connections."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.connections = 0
        self.bodies: list[bytes] = []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                body = await reader.readexactly(length)
                self.bodies.append(body)
                answer = self.answer(body)
                if answer is None:
                    break
                writer.write(answer)
                if b"Connection: close" in answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def server() -> AsyncIterator[tuple[RawServer, str]]:
    raw = RawServer(lambda body: by_length(OK))
    listening = await asyncio.start_server(raw.serve, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    yield raw, f"http://127.0.0.1:{port}"
    listening.close()


async def test_answers_are_read_whole_and_connections_kept_alive(server: tuple[RawServer, str]) -> None:
    raw, base = server
    pool = KeepAlivePool(base, limit=4)
    for n in range(3):
        assert await pool.post("/bot1:x/sendMessage", b'{"n":%d}' % n, 5) == (200, OK)
    assert raw.connections == 1 and raw.bodies == [b'{"n":0}', b'{"n":1}', b'{"n":2}']
    raw.answer = lambda body: (
        b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"ok"\r\n'
        + (b'14\r\n:true,"result":true}\r\n0\r\n\r\n')
    )
    assert await pool.post("/bot1:x/getMe", b"{}", 5) == (200, OK)  # chunked, on the same connection
    raw.answer = lambda body: by_length(OK, close=True)
    await pool.post("/bot1:x/getMe", b"{}", 5)
    await pool.post("/bot1:x/getMe", b"{}", 5)
    assert raw.connections == 2  # the connection the server closed (after the 5th call) is not reused
    pool.close()


async def test_more_calls_than_connections_wait_for_one() -> None:
    raw = RawServer(lambda body: by_length(body))
    listening = await asyncio.start_server(raw.serve, "127.0.0.1", 0)
    pool = KeepAlivePool(f"http://127.0.0.1:{listening.sockets[0].getsockname()[1]}", limit=2)
    answers = await asyncio.gather(*(pool.post("/x", b"%d" % n, 5) for n in range(10)))
    assert [body for _, body in answers] == [b"%d" % n for n in range(10)] and raw.connections <= 2
    pool.close()
    listening.close()


@pytest.mark.parametrize(
    "answer",
    [
        lambda body: None,  # hangs up without answering
        lambda body: b'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 50\r\n\r\n{"ok":',  # cut short
        lambda body: b"SMTP ready\r\n\r\n",  # not HTTP
    ],
)
async def test_a_broken_answer_is_a_network_error_and_the_next_call_gets_a_new_connection(
    server: tuple[RawServer, str], answer: Answer
) -> None:
    raw, base = server
    session = BotApiSession(base)
    bot = Bot(TEST_TOKEN, session=session)
    raw.answer = answer
    with pytest.raises(TelegramNetworkError):
        await session.send_quietly(bot, SendMessage(chat_id=1, text="hi"))
    raw.answer = lambda body: by_length(
        b'{"ok":true,"result":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"}}}'
    )
    await session.send_quietly(bot, SendMessage(chat_id=1, text="again"))
    assert raw.connections == 2
    await session.close()


async def test_a_server_that_never_answers_is_a_timeout(server: tuple[RawServer, str]) -> None:
    raw, base = server
    raw.answer = lambda body: b""  # writes nothing and keeps the connection open
    session = BotApiSession(base)
    bot = Bot(TEST_TOKEN, session=session)
    with pytest.raises(TelegramNetworkError, match="timeout"):
        await session._post(bot, SendMessage(chat_id=1, text="hi"), b"{}", 1)
    await session.close()
