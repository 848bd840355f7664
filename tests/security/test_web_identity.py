"""Borrowed identities on the web chat (issue 11, findings 2 and 5).

The web chat used to take the shopper from a ``user`` field the client chose, so anyone who knew or
guessed a shopper's id (``1``, ``admin``, one seen over a shoulder) read and acted as them. Now the
server issues the session in a cookie: these tests attack through the HTTP API with two separate
clients (two cookie jars), and check that chatter creates no customer rows and that pushed
notifications reach one tab exactly once.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.channels.web_session import COOKIE
from bot.http.app import create_app
from bot.infra.redis import make_redis
from bot.notifications.senders import InboxSender
from bot.runtime import Runtime
from dialogs.messages import TextReply
from tests.conftest import REDIS_URL
from tests.runtime_support import sqlite_copy

Client = TestClient[web.Request, web.Application]
ADDRESS = "张三 13812345678 上海市浦东新区世纪大道100号"
#: the id shopper A's old page would have sent, and what an attacker would copy
ALICE = "web-alice"


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return sqlite_copy(request, tmp_path)


@pytest_asyncio.fixture
async def server(runtime: Runtime) -> AsyncIterator[TestServer]:
    # every test client comes from one IP: these tests are about identity, not the per-IP limit
    runtime.container.settings.rate.web_per_ip = 0
    async with TestServer(create_app(runtime), host="127.0.0.1") as test_server:
        yield test_server


async def new_client(server: TestServer) -> Client:
    client: Client = TestClient(server)
    await client.start_server()
    return client


async def chat(client: Client, **body: Any) -> list[dict[str, Any]]:
    response = await client.post("/api/chat", json={"user": ALICE, **body})
    assert response.status == 200, await response.text()
    replies: list[dict[str, Any]] = (await response.json())["replies"]
    return replies


def payloads(replies: list[dict[str, Any]]) -> list[str]:
    return [b["payload"] for r in replies for b in r["buttons"]]


def everything(replies: list[dict[str, Any]]) -> str:
    """All a client was shown, files decoded, to look for another shopper's data in."""
    parts = [json.dumps(replies, ensure_ascii=False)]
    parts += [base64.b64decode(r["content_base64"]).decode() for r in replies if "content_base64" in r]
    return "\n".join(parts)


async def place_order(client: Client) -> tuple[str, str]:
    await chat(client, text="有没有红色连衣裙", lang="zh-Hans")
    await chat(client, payload="p:D1")
    await chat(client, payload="add:D1")
    assert "checkout" in payloads(await chat(client, payload="sku:D1-RED-L:1"))
    await chat(client, payload="checkout")
    assert "yes:checkout" in payloads(await chat(client, text=ADDRESS))
    replies = await chat(client, payload="yes:checkout")
    [order] = [r for r in replies if r["type"] == "order"]
    [payment] = [r for r in replies if r["type"] == "payment"]
    return order["data"]["number"], payment["data"]["payment_id"]


async def customer_rows(db_url: str) -> int:
    engine = create_async_engine(db_url)
    try:
        async with engine.connect() as connection:
            return int((await connection.execute(text("SELECT count(*) FROM customers"))).scalar_one())
    finally:
        await engine.dispose()


async def test_a_second_client_with_the_victims_id_gets_nothing_of_theirs(
    server: TestServer, runtime: Runtime
) -> None:
    alice, mallory = await new_client(server), await new_client(server)
    try:
        number, payment = await place_order(alice)
        assert (await alice.post(f"/sandbox/pay/{payment}")).status == 200  # confirmation pushed to A
        [session] = [c.value for c in alice.session.cookie_jar if c.key == COOKIE]
        alice_pseudonym = (
            await runtime.pipeline.commerce.customers.identities(
                (await runtime.pipeline.commerce.orders.get(number)).customer_id
            )
        )[0][1]
        assert alice_pseudonym != ALICE and session not in alice_pseudonym

        # Mallory knows A's old id, A's pseudonym and the order number, but not A's cookie.
        for user in (ALICE, alice_pseudonym):
            inbox = await mallory.get("/api/inbox", params={"user": user})
            assert inbox.status == 200 and (await inbox.json())["replies"] == []
        seen = await chat(mallory, text="我的订单")
        seen += await chat(mallory, text="导出我的数据")
        seen += await chat(mallory, payload="export")
        seen += await chat(mallory, text=f"订单 {number} 到哪了")
        seen += await chat(mallory, payload=f"order:{number}")
        seen += await chat(mallory, payload=f"cancel:{number}")
        seen += await chat(mallory, payload=f"yes:cancel:{number}")
        leaked = everything(seen)
        assert "13812345678" not in leaked and "张三" not in leaked and "世纪大道" not in leaked
        assert not [r for r in seen if r["type"] in ("order", "payment", "tracking")]
        exports = [json.loads(base64.b64decode(r["content_base64"])) for r in seen if "content_base64" in r]
        assert exports and all(e["orders"] == [] and e["addresses"] == [] for e in exports)
        await chat(mallory, payload="erase")
        await chat(mallory, payload="yes:privacy")

        # A's order, payment confirmation and account are untouched and still A's.
        order = await runtime.pipeline.commerce.orders.get(number)
        assert order.status == "paid"
        inbox = await (await alice.get("/api/inbox")).json()
        assert [number in r["text"] for r in inbox["replies"]] == [True]
        mine = everything(await chat(alice, text="我的订单"))
        assert number in mine
        exported = everything(await chat(alice, payload="export"))
        assert "13812345678" in exported and "世纪大道" in exported
    finally:
        await alice.close()
        await mallory.close()


async def test_chatter_creates_no_customer_rows_until_the_shopper_needs_one(
    server: TestServer, db_url: str
) -> None:
    before = await customer_rows(db_url)
    clients = [await new_client(server) for _ in range(300)]
    try:
        for client in clients:
            replies = await chat(client, text="你好")
            assert replies and client.session.cookie_jar.filter_cookies(client.make_url("/")).get(COOKIE)
        assert await customer_rows(db_url) == before  # 300 sessions, 0 customers
        # browsing and asking for help stay anonymous too; the language picked is kept for later
        shopper = clients[0]
        await chat(shopper, payload="lang:en")
        await chat(shopper, text="red dress")
        await chat(shopper, payload="p:D1")
        await chat(shopper, text="help")
        assert await customer_rows(db_url) == before
        # the first thing that needs a customer creates exactly one, in the language chosen
        await chat(shopper, payload="add:D1")
        replies = await chat(shopper, payload="sku:D1-RED-L:1")
        assert "checkout" in payloads(replies)
        assert await customer_rows(db_url) == before + 1
        assert "Red Floral Dress" in everything(await chat(shopper, payload="cart"))
        assert await customer_rows(db_url) == before + 1
    finally:
        for client in clients:
            await client.close()


@pytest.mark.parametrize("readers", [1, 2])
async def test_pushes_reach_one_reader_exactly_once_on_real_redis(readers: int) -> None:
    """2,000 notifications pushed while tabs poll: none lost, none delivered twice."""
    redis = make_redis(REDIS_URL)
    sender = InboxSender(redis, "web")
    user = f"race-{readers}-{secrets.token_hex(6)}"  # pushes are de-duplicated per user for days
    await redis.delete(sender.key(user))
    total = 2000
    received: list[str] = []
    pushing_done = asyncio.Event()

    async def push_all() -> None:
        for i in range(total):
            await sender.push(user, [TextReply(f"n{i}")], dedup_key=f"race-{user}-{i}")
        pushing_done.set()

    async def read() -> None:
        while True:
            done = pushing_done.is_set()
            batch = await sender.drain(user)
            received.extend(item["text"] for item in batch)
            if done and not batch:
                return
            await asyncio.sleep(0)

    try:
        await asyncio.gather(push_all(), *(read() for _ in range(readers)))
        assert len(received) == total  # 0 lost, 0 duplicated
        assert sorted(received) == sorted(f"n{i}" for i in range(total))
        assert await sender.drain(user) == []
    finally:
        await redis.delete(sender.key(user))
        await redis.aclose()


def test_the_session_cookie_is_httponly_samesite_and_secure_under_https() -> None:
    from aiohttp.test_utils import make_mocked_request

    from bot.channels.web_session import existing_session, remember, session_of

    for public_url, secure in (("http://127.0.0.1:8080", False), ("https://shop.example", True)):
        request = make_mocked_request("POST", "/api/chat")
        session = session_of(request)
        response = web.Response()
        remember(request, response, session, public_url=public_url)
        morsel = response.cookies[COOKIE]
        assert morsel.value == session.token and morsel["httponly"] and morsel["samesite"] == "Lax"
        assert bool(morsel["secure"]) is secure
    # a cookie the server could not have issued (a guessed or chosen id) is no session at all
    for forged in ("1", "admin", "web-alice", "x" * 42, "x" * 43 + "!"):
        request = make_mocked_request("GET", "/api/inbox", headers={"Cookie": f"{COOKIE}={forged}"})
        assert existing_session(request) is None
        assert session_of(request).issued
