"""Fault injection against real processes (issue 11, "Must show"; R3.4-1, R3.4-2, R7.4-1): while
shoppers chat on Telegram, WeChat and the web, ``shopbot serve`` is killed with SIGKILL (mid-turn and
mid-checkout) and started again, its Redis server is restarted, its PostgreSQL is restarted.

Each test prints and asserts per channel: messages sent, answered, lost (0) and answered twice (0);
and that orders and payments are consistent: every order a shopper was told about exists exactly
once, no order exists that nobody was told about, every order has one payment, reserved stock adds up.

One server set for the module (own Redis with AOF ``appendfsync always``, own PostgreSQL cluster, one
``shopbot serve``; see :mod:`tests.processes`), never the shared servers. Leases are short (settings)
so a killed process's work is taken over in seconds, not the production 30 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from commerce_core.api import migrate_database
from commerce_core.app import Commerce, CommerceConfig
from commerce_core.db.engine import create_engine
from nlu.training import load_or_train
from tests.commerce.factory import build_shop
from tests.conftest import missing_service
from tests.processes import PostgresCluster, RedisServer, ShopbotServer
from tests.reliability.platforms import (
    BOT_TOKEN,
    WEBHOOK_SECRET,
    WECHAT_TOKEN,
    FakePlatforms,
    Tally,
    TelegramClient,
    WebClient,
    WeChatClient,
)

ADDRESS = "张三 13812345678 上海市浦东新区世纪大道100号"
KEY = Fernet.generate_key().decode()
STOCK = 60
SKU = "D1-RED-L"
SANDBOX_SECRET = "fault-sandbox-secret-0123456789"


@dataclass
class World:
    """The processes of this module and what was promised to shoppers so far."""

    redis: RedisServer
    postgres: PostgresCluster
    server: ShopbotServer
    fakes: FakePlatforms
    db_url: str
    telegram_per_turn: int = 1
    orders_told: set[str] = field(default_factory=set)
    chats: Iterator[int] = field(default_factory=lambda: iter(range(910_000_001, 920_000_000)))
    openids: Iterator[int] = field(default_factory=lambda: iter(range(1, 1_000_000)))


async def seed(db_url: str) -> None:
    await migrate_database(db_url)
    config = CommerceConfig([KEY], "fault-index-key-0123456789abcdef", SANDBOX_SECRET)
    commerce = Commerce.build(create_engine(db_url), config)
    try:
        await build_shop(commerce, stock=STOCK)
    finally:
        await commerce.close()


def server_env(directory: Path, redis: RedisServer, db_url: str, fakes: FakePlatforms) -> dict[str, str]:
    return {
        "SHOPBOT_DATABASE_URL": db_url,
        "SHOPBOT_REDIS_URL": redis.url,
        "SHOPBOT_DATA_DIR": str(directory / "data"),
        "SHOPBOT_ENCRYPTION_KEYS": KEY,
        "SHOPBOT_BLIND_INDEX_KEY": "fault-index-key-0123456789abcdef",
        "SHOPBOT_SANDBOX_PAYMENT_SECRET": SANDBOX_SECRET,
        "SHOPBOT_TURN_LEASE_SECONDS": "4",
        "SHOPBOT_RATE_WEB_PER_IP": "0",
        "SHOPBOT_RATE_WEB_PER_SESSION": "0",
        "SHOPBOT_RATE_CHAT_USER_PER_MINUTE": "0",
        "SHOPBOT_TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "SHOPBOT_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "SHOPBOT_TELEGRAM_API_BASE": fakes.base_url,
        "SHOPBOT_TELEGRAM_CLAIM_IDLE_SECONDS": "3",
        "SHOPBOT_TELEGRAM_PER_CHAT_RATE": "100",
        "SHOPBOT_TELEGRAM_PER_CHAT_BURST": "100",
        "SHOPBOT_TELEGRAM_GLOBAL_RATE": "1000",
        "SHOPBOT_WECHAT_APP_ID": "wxfaults0000000001",
        "SHOPBOT_WECHAT_APP_SECRET": "fault-secret",
        "SHOPBOT_WECHAT_TOKEN": WECHAT_TOKEN,
        "SHOPBOT_WECHAT_MODE": "plain",
        "SHOPBOT_WECHAT_API_BASE": fakes.base_url,
    }


#: the language model for the servers, trained once per checkout (its key covers data and code), kept
#: apart from other checkouts' caches: a server that finds no matching model trains one as it starts
MODEL_CACHE = Path(tempfile.gettempdir()) / (
    "shopbot-fault-nlu-" + hashlib.sha1(str(Path(__file__).resolve().parents[2]).encode()).hexdigest()[:10]
)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    # not pytest's tmp_path: pytest removes old base temp dirs of other runs as it starts, and a
    # PostgreSQL whose data dir vanishes mid-test panics (seen when several suites ran at once)
    if shutil.which("redis-server") is None or not list(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")):
        # locally: skipped; in CI: a failure (the image must have redis-server and PostgreSQL)
        missing_service("redis-server and PostgreSQL's pg_ctl", FileNotFoundError("not installed"))
    directory = Path(tempfile.mkdtemp(prefix="shopbot-faults-"))
    with contextlib.ExitStack() as cleanup:  # whatever started is stopped, in reverse order
        cleanup.callback(shutil.rmtree, directory, ignore_errors=True)
        model = load_or_train(MODEL_CACHE).path
        (directory / "data" / "nlu").mkdir(parents=True)
        shutil.copy(model, directory / "data" / "nlu" / model.name)
        redis = RedisServer(directory / "redis")
        cleanup.callback(redis.stop)
        redis.start()
        postgres = PostgresCluster(directory / "pg").init()
        cleanup.callback(postgres.stop, "immediate")
        postgres.start()
        fakes = FakePlatforms().start()
        cleanup.callback(fakes.stop)
        db_url = postgres.create_database("shop")
        asyncio.run(seed(db_url))
        server = ShopbotServer(directory / "serve", server_env(directory, redis, db_url, fakes))
        cleanup.callback(server.stop)
        server.start()
        built = World(redis, postgres, server, fakes, db_url)
        built.telegram_per_turn = asyncio.run(telegram_turn_size(built))
        yield built


async def telegram_turn_size(world: World) -> int:
    """How many messages one "help" turn sends on Telegram (measured once, before any fault)."""
    chat = next(world.chats)
    tally = Tally("telegram")
    async with httpx.AsyncClient() as http:
        await TelegramClient(world.server.base_url, world.fakes, chat, tally, 1).say(http, "help")
        await asyncio.sleep(2)
    assert tally.answered == 1, "Telegram does not answer even without a fault"
    return world.fakes.telegram_count(str(chat))


async def web_shopper(world: World, tally: Tally, checkout: bool, at_checkout: asyncio.Event) -> WebClient:
    """A web shopper: search to a placed order (``checkout``), or three chat turns."""
    client = WebClient(world.server.base_url, tally)
    if not checkout:
        for words in ("hello", "red dress", "help"):
            await client.say(text=words)
        return client
    for step in ({"text": "red dress"}, {"payload": "p:D1"}, {"payload": "add:D1"}):
        await client.say(**step)
    await client.say(payload=f"sku:{SKU}:1")
    await client.say(payload="checkout")
    await client.say(text=ADDRESS)
    at_checkout.set()
    replies = await client.say(payload="yes:checkout")
    told = [r["data"]["number"] for r in replies if r.get("type") == "order"]
    assert told, f"the shopper was not told about an order: {replies}"
    world.orders_told.update(told)
    return client


async def traffic(
    world: World, fault: Callable[[], None], *, checkout: bool, delay: float = 1.0
) -> dict[str, Tally]:
    """Shoppers on all three channels while ``fault`` runs (in a thread, after ``delay`` seconds or when
    the first web shopper confirms an order); returns what each channel's shoppers noticed."""
    tallies = {name: Tally(name) for name in ("web", "telegram", "wechat")}
    at_checkout = asyncio.Event()
    telegram = [
        TelegramClient(
            world.server.base_url,
            world.fakes,
            next(world.chats),
            tallies["telegram"],
            world.telegram_per_turn,
        )
        for _ in range(3)
    ]
    wechat = [
        WeChatClient(
            world.server.base_url,
            world.fakes,
            f"o-fault-{next(world.openids):06d}",
            tallies["wechat"],
            world.redis.url,
        )
        for _ in range(3)
    ]

    async def chats(client: TelegramClient | WeChatClient, http: httpx.AsyncClient) -> None:
        for _ in range(4):
            await client.say(http, "help")

    async def inject() -> None:
        if checkout:
            await at_checkout.wait()
            await asyncio.sleep(0.05)
        else:
            await asyncio.sleep(delay)
        await asyncio.to_thread(fault)

    platform_clients: list[TelegramClient | WeChatClient] = [*telegram, *wechat]
    async with httpx.AsyncClient() as http:
        injected = asyncio.create_task(inject())
        web, _ = await asyncio.gather(
            asyncio.gather(*(web_shopper(world, tallies["web"], checkout, at_checkout) for _ in range(4))),
            asyncio.gather(*(chats(client, http) for client in platform_clients)),
        )
        at_checkout.set()
        await injected
        await asyncio.sleep(3)  # late duplicates would arrive now
        for client in platform_clients:
            client.check_duplicates()
        for shopper in web:
            await shopper.check_duplicates()
            await shopper.aclose()
    return tallies


async def check_orders(world: World) -> list[str]:
    """Orders and payments agree with what shoppers were told; reserved stock adds up."""
    engine = create_engine(world.db_url)
    problems: list[str] = []
    try:
        async with engine.connect() as conn:
            numbers = [row[0] for row in await conn.execute(text("SELECT number FROM orders"))]
            if sorted(numbers) != sorted(world.orders_told):
                problems.append(
                    f"orders {sorted(numbers)} but shoppers were told {sorted(world.orders_told)}"
                )
            payments = await conn.execute(
                text(
                    "SELECT o.number, count(p.id) FROM orders o LEFT JOIN payments p ON p.order_id = o.id "
                    "GROUP BY o.number HAVING count(p.id) <> 1"
                )
            )
            problems += [f"order {number} has {count} payments" for number, count in payments]
            stock = await conn.execute(
                text(
                    "SELECT s.code, l.on_hand, l.reserved, "
                    "(SELECT coalesce(sum(r.quantity), 0) FROM stock_reservations r "
                    " WHERE r.sku_id = s.id AND r.status = 'active'), "
                    "(SELECT coalesce(sum(ol.quantity), 0) FROM order_lines ol"
                    " JOIN orders o ON o.id = ol.order_id"
                    " WHERE ol.sku_id = s.id AND o.status = 'pending_payment') "
                    "FROM skus s JOIN stock_levels l ON l.sku_id = s.id"
                )
            )
            for code, on_hand, reserved, held, ordered in stock:
                if not reserved == held == ordered:
                    problems.append(f"{code}: reserved {reserved}, reservations {held}, ordered {ordered}")
                if on_hand != STOCK:
                    problems.append(f"{code}: on hand {on_hand}, not {STOCK} (nothing was paid)")
    finally:
        await engine.dispose()
    return problems


def run_fault(world: World, name: str, fault: Callable[[], None], *, checkout: bool = False) -> None:
    tallies = asyncio.run(traffic(world, fault, checkout=checkout))
    problems = asyncio.run(check_orders(world))
    print(f"\n--- fault: {name}")
    for tally in tallies.values():
        print(tally.line())
    print(f"orders told {len(world.orders_told)}, consistency problems {len(problems)}")
    for tally in tallies.values():
        assert tally.answered == tally.delivered, (tally.line(), tally.lost)
        assert len(tally.undeliverable) <= tally.sent // 3, "the outage outlasted WeChat's retries too often"
        assert not tally.lost, tally.lost
        assert not tally.duplicated, tally.duplicated
    assert not problems, problems
    assert world.server.ready()


def kill_and_restart(world: World) -> Callable[[], None]:
    def fault() -> None:
        world.fakes.kills.append(time.monotonic())
        world.server.kill()
        world.server.start()

    return fault


def test_kill_9_mid_turn(world: World) -> None:
    run_fault(world, "kill -9 of shopbot serve mid-turn", kill_and_restart(world))


def test_kill_9_mid_checkout(world: World) -> None:
    run_fault(world, "kill -9 of shopbot serve mid-checkout", kill_and_restart(world), checkout=True)


def test_redis_restart(world: World) -> None:
    run_fault(world, "Redis server restart", lambda: world.redis.restart(down_for=1.0), checkout=True)


def test_postgres_restart(world: World) -> None:
    run_fault(
        world, "PostgreSQL restart", lambda: world.postgres.restart("fast", down_for=1.0), checkout=True
    )
