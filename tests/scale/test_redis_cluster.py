"""The product on a 3-node Redis Cluster (issue 16; R3.3-1, R3.3-5): ``SHOPBOT_REDIS_URL`` names the
cluster, the app builds redis-py's cluster client, and every multi-key operation (the Telegram inbox's
store script, the turn marks' scripts, the rate limiter, the merchant digest, the conversation lock with
its state) keeps its keys in one hash slot, or the cluster refuses it with CROSSSLOT.

One cluster and one ``shopbot serve`` for the module (see :mod:`tests.scale.cluster`); the database is a
throw-away one on the test PostgreSQL. A web shopper buys and pays, a Telegram shopper buys and pays
(webhook -> the inbox's Lua script on the cluster -> worker -> fake Bot API) and asks for a person, whom
an agent answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisClusterException, ResponseError

from bot.channels.telegram.inbox import UpdateInbox
from bot.infra.ratelimit import Limits, SharedRateLimiter, WallTimer
from bot.infra.redis import as_async_store, make_cluster, make_redis
from bot.notifications.merchant_digest import Member, OrderPacer
from bot.turns import FORGET_FAILED, ConversationStates, lock_key
from dialogs.state import ConversationState
from tests.conftest import missing_service
from tests.processes import ShopbotServer
from tests.reliability.platforms import Tally, WebClient
from tests.scale.cluster import RedisClusterServers
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


@dataclass
class World:
    cluster: RedisClusterServers
    fakes: ButtonPlatforms
    server: ShopbotServer
    db_url: str


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        missing_service("redis-server and redis-cli", FileNotFoundError("not installed"))
    directory = Path(tempfile.mkdtemp(prefix="shopbot-cluster-"))
    with contextlib.ExitStack() as cleanup:  # whatever started is stopped, in reverse order
        cleanup.callback(shutil.rmtree, directory, ignore_errors=True)
        cluster = RedisClusterServers(directory / "cluster")
        cleanup.callback(cluster.stop)
        cluster.start()
        fakes = ButtonPlatforms()
        fakes.start()
        cleanup.callback(fakes.stop)
        db_url = cleanup.enter_context(shop_database())
        env = server_env(data_dir(directory), cluster.url, db_url, fakes)
        server = ShopbotServer(directory / "serve", env)
        cleanup.callback(server.stop)
        server.start()
        yield World(cluster, fakes, server, db_url)


async def test_a_cluster_url_builds_the_cluster_client(world: World) -> None:
    """R3.3-5: ``redis+cluster://`` with any of the nodes reaches the whole cluster; bad URLs are refused."""
    client = make_redis(world.cluster.url)
    try:
        assert isinstance(client, RedisCluster)
        await client.set("scale:probe", b"1")
        assert await client.get("scale:probe") == b"1"
        assert len(client.get_primaries()) == 3
    finally:
        await client.aclose()
    one = make_cluster(f"redis+cluster://127.0.0.1:{world.cluster.ports[1]}?socket_timeout=5")
    try:
        assert await one.ping() and len(one.get_primaries()) == 3  # one node is enough to find the rest
    finally:
        await one.aclose()
    for bad in ("redis+cluster://", "redis+cluster://host-without-port"):
        with pytest.raises(ValueError):
            make_cluster(bad)


async def test_every_multi_key_script_keeps_to_one_slot(world: World) -> None:
    """R3.3-5: the app's scripts and transactions run on the cluster (a key outside the operation's
    slot would be refused with CROSSSLOT); the same keys without their tag are refused, so the check is
    real."""
    client = make_redis(world.cluster.url)
    try:
        inbox = UpdateInbox(client, "4242")
        assert await inbox.store(1, "77", b'{"update_id": 1}') is True
        assert await inbox.store(1, "77", b'{"update_id": 1}') is False  # a redelivery: not stored again
        [entry] = await inbox.read("scale-consumer")
        await inbox.ack(entry.entry_id)  # XACK + XDEL in one round trip
        assert await inbox.backlog() == 0

        limiter = SharedRateLimiter(client, WallTimer(), Limits(), scope="tg:4242")
        assert await limiter.reserve("77") >= 0
        await limiter.pause("77", 1.0)

        digests = OrderPacer(client, window=0.0)
        assert await digests.claim(Member(1, 2), "evt-1", "ORD1") == ["ORD1"]
        assert await digests.claim(Member(1, 2), "evt-1", "ORD1") == ["ORD1"]  # a retry: the same claim

        states = ConversationStates(as_async_store(client))
        conversation = "telegram:77"
        async with client.pipeline(transaction=True) as batch:  # lock and state in one slot: MULTI works
            batch.set(lock_key(conversation), b"me", px=5000)
            batch.set(states.key_of(conversation), ConversationState(lang="en").model_dump_json())
            await batch.execute()
        assert (await states.load(conversation)).lang == "en"
        mark, fails = "{conv:telegram:77}:turn:x", "{conv:telegram:77}:fails:x"
        failures = await client.eval(FORGET_FAILED, 2, mark, fails, b"p", 60)  # type: ignore[misc]
        assert failures == 1

        with pytest.raises((RedisClusterException, ResponseError), match=r"same key slot|CROSSSLOT"):
            await client.eval(FORGET_FAILED, 2, "shopbot:turn:a", "shopbot:fails:b", b"p", 60)  # type: ignore[misc]
    finally:
        await client.aclose()


async def test_a_web_shopper_buys_and_pays_on_the_cluster(world: World) -> None:
    """R3.1-1 on a cluster: search, add to cart, address, place, pay in the sandbox; told once."""
    web = WebClient(world.server.base_url, Tally("web"))
    try:
        said = [await web.say(**step) for step in WEB_PURCHASE]
        replies = await web.say(payload="yes:checkout")
        assert any(r.get("type") == "order" for r in replies), f"no order placed: {said} {replies}"
        [number] = [r["data"]["number"] for r in replies if r.get("type") == "order"]
        [payment] = [r["data"]["payment_id"] for r in replies if r.get("type") == "payment"]
        paid = await web.http.post(f"/sandbox/pay/{payment}")
        assert paid.status_code == 200 and "captured" in paid.text
        told = await pushed_mentioning(web, number)
        assert len(told) == 1, told
        assert web.tally.lost == []
    finally:
        await web.aclose()


WEB_PURCHASE = (
    {"text": "red dress"},
    {"payload": "p:D1"},
    {"payload": "add:D1"},
    {"payload": f"sku:{SKU}:1"},
    {"payload": "checkout"},
    {"text": ADDRESS},
)


async def pushed_mentioning(web: WebClient, number: str) -> list[str]:
    """The pushed messages about order ``number`` that reach the page's inbox within the wait."""
    told: list[str] = []
    for _ in range(int(WAIT * 4)):
        inbox = (await web.http.get("/api/inbox")).json()["replies"]
        told += [r["text"] for r in inbox if number in r.get("text", "")]
        if told:
            await asyncio.sleep(1.0)  # a second copy would come now
            inbox = (await web.http.get("/api/inbox")).json()["replies"]
            return told + [r["text"] for r in inbox if number in r.get("text", "")]
        await asyncio.sleep(0.25)
    return told


async def test_a_telegram_shopper_buys_pays_and_reaches_a_person_on_the_cluster(world: World) -> None:
    """R3.1-1, R5.2-6 on a cluster, through the Telegram webhook: every update goes through the inbox's
    store script on the cluster; the purchase, the payment notice and the agent's answer arrive once."""
    fakes, url = world.fakes, world.server.base_url
    shopper = TelegramUser(fakes, 930_000_001)
    async with httpx.AsyncClient(timeout=30) as http:
        assert await shopper.say(http, url, "red dress")
        for payload in ("p:D1", "add:D1", f"sku:{SKU}:1", "checkout"):
            assert await shopper.press(http, url, f"t|{payload}"), payload
        assert await shopper.say(http, url, ADDRESS)
        placed = await shopper.press(http, url, "t|yes:checkout")
        number = order_number(placed)
        pay = fakes.button(shopper.chat, data_prefix="t|sbxpay:")["callback_data"]  # the sandbox's button
        before = len(fakes.texts(shopper.chat))
        assert await shopper.press(http, url, pay)
        notices = [t for t in await shopper.wait_for_more(before, quiet=2.0) if number in t]
        assert len(notices) == 1, f"payment notice for {number}: {notices}"

        assert await shopper.say(http, url, "talk to a human")
        commerce = commerce_for(world.db_url)
        try:
            ticket = await commerce.support.active_for(f"telegram:{shopper.chat}")
            assert ticket is not None, "asking for a person opened no handoff"
            await commerce.support.claim(ticket.number, AGENT)
            before = len(fakes.texts(shopper.chat))
            await commerce.support.reply(ticket.number, AGENT, "Hello from a person, on the cluster")
            answered = await shopper.wait_for_more(before, quiet=1.5)
            assert sum("Hello from a person, on the cluster" in t for t in answered) == 1, answered
            before = len(fakes.texts(shopper.chat))
            await shopper.send(http, url, {"message": message(shopper.chat, "thanks, got it")})
            history: list[str] = []
            for _ in range(int(WAIT * 4)):
                history = [m.text for m in await commerce.support.history(ticket.number)]
                if "thanks, got it" in history:
                    break
                await asyncio.sleep(0.25)
            assert "thanks, got it" in history  # the shopper's words reached the agent's console
            assert fakes.texts(shopper.chat)[before:] == []  # and the bot kept quiet meanwhile
        finally:
            await commerce.close()
    spread = world.cluster.keys_per_node()
    assert sum(1 for keys in spread if keys) >= 2, f"all keys on one node: {spread}"


def message(chat: int, words: str) -> dict[str, object]:
    return {
        "message_id": 1,
        "date": 0,
        "chat": {"id": chat, "type": "private"},
        "from": {"id": chat, "is_bot": False, "first_name": "Scale", "language_code": "en"},
        "text": words,
    }
