"""Two ``shopbot serve`` processes, one conversation (issue 16, "Must show"; R3.1-1, R3.3-1, R5.2-6):
its messages go alternately to one and the other, on the web chat (its session cookie) and on
Telegram (the webhook of each); the replies come in order, none lost, none twice; the outbox relays of
both processes together deliver every notification (payment notices, an agent's answers) exactly once.

Any process can take any message because everything a turn needs is shared: conversation state, its
lock and de-duplication marks in Redis, the Telegram inbox a Redis stream read by a consumer group
(one consumer per process slot), the outbox rows claimed in PostgreSQL.

One server set for the module: a private ``redis-server``, a throw-away database on the test
PostgreSQL, the two servers sharing both (see :mod:`tests.processes`, :mod:`tests.scale.harness`).

Lean by design (issue 16): the two servers start and stop together, and instead of sleeping "long
enough for a second copy to show up" the tests ask the shared stores when the servers are done
(:class:`Settled`), then give a second copy a short :data:`GRACE` to arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot.channels.telegram.inbox import UpdateInbox
from commerce_core.outbox.model import QUEUED
from tests.conftest import missing_service
from tests.processes import RedisServer, ShopbotServer
from tests.reliability.platforms import BOT_TOKEN
from tests.scale.harness import (
    ADDRESS,
    AGENT,
    SKU,
    WAIT,
    ButtonPlatforms,
    TelegramUser,
    commerce_for,
    data_dir,
    order_number,
    server_env,
    shop_database,
)

#: once the servers are done, how long a second copy (sent by the other process) has to show up: a
#: copy from a second claim of the same work is sent alongside the first, within milliseconds
GRACE = 0.5


@dataclass
class World:
    servers: tuple[ShopbotServer, ShopbotServer]
    fakes: ButtonPlatforms
    db_url: str
    redis_url: str

    def url(self, turn: int) -> str:
        """The server for the ``turn``-th message: one, the other, one, ..."""
        return self.servers[turn % 2].base_url


class Settled:
    """Whether both servers have finished all the work handed to them so far, read from what they share.

    The Telegram inbox stream is empty (a worker acknowledges, and so deletes, an update only after
    it was processed and its replies sent; the webhook stores an update before it answers 200), and
    no outbox row is queued (a relay records ``sent_at`` only after delivering the row). Asking this
    replaces fixed sleeps: it is both quicker and surer than "nothing came for two seconds"."""

    def __init__(self, world: World) -> None:
        self.redis = aioredis.from_url(world.redis_url)
        self.stream = UpdateInbox(self.redis, BOT_TOKEN.split(":", 1)[0]).stream
        self.engine = create_async_engine(world.db_url, poolclass=NullPool)

    async def pending(self) -> tuple[int, int]:
        """(updates not yet acknowledged, outbox rows not yet sent or parked)."""
        updates = int(await self.redis.xlen(self.stream))
        async with self.engine.connect() as conn:
            queued = int(await conn.scalar(text(f"SELECT count(*) FROM outbox WHERE {QUEUED}")) or 0)
        return updates, queued

    async def __call__(self) -> bool:
        return await self.pending() == (0, 0)

    async def wait(self) -> None:
        """Until the servers are done (then :data:`GRACE` for a second copy); fails after ``WAIT``."""
        deadline = time.monotonic() + WAIT
        while (left := await self.pending()) != (0, 0):
            assert time.monotonic() < deadline, f"servers never settled: (updates, outbox rows) {left}"
            await asyncio.sleep(0.05)
        await asyncio.sleep(GRACE)

    async def aclose(self) -> None:
        await self.redis.aclose()
        await self.engine.dispose()


@pytest.fixture
async def settled(world: World) -> AsyncIterator[Settled]:
    probe = Settled(world)
    try:
        yield probe
    finally:
        await probe.aclose()


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    if shutil.which("redis-server") is None:
        missing_service("redis-server", FileNotFoundError("not installed"))
    directory = Path(tempfile.mkdtemp(prefix="shopbot-two-"))
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(shutil.rmtree, directory, ignore_errors=True)
        redis = RedisServer(directory / "redis")
        cleanup.callback(redis.stop)
        redis.start()
        fakes = ButtonPlatforms()
        fakes.start()
        cleanup.callback(fakes.stop)
        db_url = cleanup.enter_context(shop_database())
        env = server_env(data_dir(directory), redis.url, db_url, fakes)
        servers = (ShopbotServer(directory / "a", env), ShopbotServer(directory / "b", env))
        cleanup.callback(together, servers, ShopbotServer.stop)
        together(servers, ShopbotServer.start)
        yield World(servers, fakes, db_url, redis.url)


def together(servers: tuple[ShopbotServer, ...], action: Callable[[ShopbotServer], object]) -> None:
    """Both start (or stop) at once: a start is mostly imports and the language model, a stop the
    graceful shutdown of each one's workers; side by side, each costs half the wait."""
    errors: list[BaseException] = []

    def run(server: ShopbotServer) -> None:
        try:
            action(server)
        except BaseException as error:  # noqa: BLE001 - reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(server,)) for server in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


#: a purchase as (message, what its reply must say): the check that each reply is the answer to the
#: message just sent, in order, whichever process ran the turn before
WEB_STEPS: list[tuple[dict[str, str], str]] = [
    ({"text": "red dress"}, "Red Floral Dress"),
    ({"payload": "p:D1"}, "Chiffon"),
    ({"payload": "add:D1"}, "Which one"),
    ({"payload": f"sku:{SKU}:1"}, "Added 1"),
    ({"payload": "checkout"}, "delivery address"),
    ({"text": ADDRESS}, "yes:checkout"),
    ({"payload": "yes:checkout"}, "'type': 'order'"),
]


async def test_a_web_conversation_alternating_between_two_processes(world: World, settled: Settled) -> None:
    """R3.3-1: one web chat session, its messages alternately to each process: every reply answers the
    message just sent, none is lost; each message sent again (a retry, to the other process) gets the
    same answer and runs nothing twice; the payment notice reaches the page once."""
    async with httpx.AsyncClient(timeout=60) as http:  # one cookie jar: one browser
        sent: list[tuple[int, str, list[dict[str, Any]]]] = []
        for turn, (body, expected) in enumerate(WEB_STEPS):
            message_id = f"m{turn}-{id(world)}"
            response = await http.post(
                f"{world.url(turn)}/api/chat", json={**body, "id": message_id, "lang": "en"}
            )
            assert response.status_code == 200, response.text
            replies = [r for r in response.json()["replies"] if not r.get("pushed")]
            said = " ".join(str(r.get("text", "")) for r in replies) + str(replies)
            assert expected in said, f"turn {turn} ({body}) answered with {replies}"
            sent.append((turn, message_id, replies))
        [number] = [r["data"]["number"] for r in sent[-1][2] if r.get("type") == "order"]
        [payment] = [r["data"]["payment_id"] for r in sent[-1][2] if r.get("type") == "payment"]
        for turn, message_id, first in sent:  # the same message again, to the other process
            again = await http.post(f"{world.url(turn + 1)}/api/chat", json={"id": message_id, "text": "x"})
            assert [r for r in again.json()["replies"] if not r.get("pushed")] == first, f"turn {turn}"
        assert (await http.post(f"{world.url(1)}/sandbox/pay/{payment}")).status_code == 200
        notices: list[str] = []
        for poll in range(int(WAIT * 4)):
            inbox = (await http.get(f"{world.url(poll)}/api/inbox")).json()["replies"]
            notices += [r["text"] for r in inbox if number in r.get("text", "")]
            if notices:
                break
            await asyncio.sleep(0.25)
        await settled.wait()  # every notification delivered: a second copy would be waiting by now
        for server in world.servers:
            inbox = (await http.get(f"{server.base_url}/api/inbox")).json()["replies"]
            notices += [r["text"] for r in inbox if number in r.get("text", "")]
        assert len(notices) == 1, f"payment notice for {number}: {notices}"


TELEGRAM_STEPS: list[tuple[str, str, str]] = [
    ("say", "red dress", "Red Floral Dress"),
    ("press", "t|p:D1", "Chiffon"),
    ("press", "t|add:D1", "Which one"),
    ("press", f"t|sku:{SKU}:1", "Added 1"),
    ("press", "t|checkout", "delivery address"),
    ("say", ADDRESS, "138******78"),  # the address read back, masked
    ("press", "t|yes:checkout", "SB"),
]


async def test_a_telegram_chat_alternating_between_two_webhooks(world: World, settled: Settled) -> None:
    """R3.3-1, R5.2-6: one Telegram chat whose updates arrive alternately at each process's webhook;
    each turn's messages answer it (in order), none lost; a redelivered update (Telegram retrying,
    to the other process) sends nothing again; the payment notice and six answers of an agent, relayed
    by whichever outbox relay claims them, each arrive exactly once."""
    fakes = world.fakes
    shopper = TelegramUser(fakes, 940_000_001, settled)
    async with httpx.AsyncClient(timeout=60) as http:
        for turn, (kind, what, expected) in enumerate(TELEGRAM_STEPS):
            if kind == "say":
                texts = await shopper.say(http, world.url(turn), what)
            else:
                texts = await shopper.press(http, world.url(turn), what)
            assert any(expected in text for text in texts), f"turn {turn} ({what}) answered with {texts}"
            assert len(set(texts)) == len(texts), f"turn {turn}: a message twice: {texts}"
        number = order_number(texts)
        before = len(fakes.texts(shopper.chat))
        await shopper.redeliver(http, world.url(len(TELEGRAM_STEPS)))  # Telegram retrying, elsewhere
        await settled.wait()
        assert fakes.texts(shopper.chat)[before:] == [], "a redelivered update was answered again"
        pay = fakes.button(shopper.chat, data_prefix="t|sbxpay:")["callback_data"]  # the sandbox's button
        assert await shopper.press(http, world.url(1), pay)
        await settled.wait()  # the payment notice relayed (by either process)
        after_pay = fakes.texts(shopper.chat)[before:]
        assert sum(number in text for text in after_pay) == 1, f"after paying {number}: {after_pay}"

        assert await shopper.say(http, world.url(1), "talk to a human")
        commerce = commerce_for(world.db_url)
        try:
            ticket = await commerce.support.active_for(f"telegram:{shopper.chat}")
            assert ticket is not None, "asking for a person opened no handoff"
            await commerce.support.claim(ticket.number, AGENT)
            before = len(fakes.texts(shopper.chat))
            answers = [f"agent answer {n} of six" for n in range(1, 7)]
            for answer in answers:
                await commerce.support.reply(ticket.number, AGENT, answer)
            arrived: list[str] = []
            for _ in range(int(WAIT * 4)):
                arrived = fakes.texts(shopper.chat)[before:]
                if sum(any(a in text for text in arrived) for a in answers) == len(answers):
                    break
                await asyncio.sleep(0.25)
            await settled.wait()  # every answer relayed: a second delivery would be here by now
            arrived = fakes.texts(shopper.chat)[before:]
            counts = {a: sum(a in text for text in arrived) for a in answers}
            assert counts == dict.fromkeys(answers, 1), f"agent answers delivered: {counts} ({arrived})"
            assert [a for text in arrived for a in answers if a in text] == answers  # in the agent's order
        finally:
            await commerce.close()
