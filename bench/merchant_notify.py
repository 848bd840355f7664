"""Merchant notification benchmark: 1,000 paid orders across 50 merchants, told on Telegram.

Each merchant has an owner account with a Telegram chat bound by a one-time code (as in the console).
All orders are paid at once (1,000 ``PaymentCaptured`` events waiting in the outbox), then the outbox
relay and the digest flush deliver them through the real Telegram channel (shared Redis rate limiter,
outbound retries) to a **fake Bot API on loopback** that enforces Telegram's limits itself: more than
30 messages in any second overall, or a second message to one chat within a second, gets
``429 Too Many Requests`` with ``retry_after``. Time is a virtual clock shared by the fake API, the
limiter and the per-chat digest window: it runs with real time while anything is being processed and
skips ahead only when everything is waiting on it (see :class:`VirtualClock`), so the figure measures
our code against Telegram's limits without sleeping through idle waits, and never counts a wait that
overlapped our processing twice. It starts when the notifications do (not while orders are paid).

Figures: orders notified per second of that time (``max(virtual, wall)``), Telegram messages sent
(a burst to one merchant becomes a digest), and ``lost`` (paid orders no merchant message mentions),
``duplicated`` (extra mentions), ``http_429`` (limit violations the fake API answered) -- targets 0.

DB and Redis come from the app settings (``SHOPBOT_DATABASE_URL``, ``SHOPBOT_REDIS_URL``; a scratch
database is created and dropped; the benchmark's Redis keys are removed first).

    python bench/merchant_notify.py [--orders 1000] [--merchants 50]
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import itertools
import os
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiohttp import FormData, web

from bench._common import emit_json, scratch_database
from bot.bootstrap import build_runtime
from bot.channels.base import ChannelContext
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.session import TEST_TOKEN
from bot.channels.telegram.settings import TelegramSettings
from bot.notifications.merchant_digest import OrderPacer
from bot.notifications.merchants import PaidOrderForMerchants, flush_merchant_digests
from bot.settings import load_settings
from commerce_core.api import (
    SYSTEM_ACTOR,
    Actor,
    AddressInput,
    Commerce,
    LineRequest,
    MerchantStatus,
    OperatorPolicy,
    OperatorRole,
    PaymentCaptured,
)
from commerce_core.catalog.types import ProductDraft, VariantDraft

MERCHANT_CHAT_BASE = 880_000_000
DEBUG = bool(os.environ.get("BENCH_DEBUG"))  # print each 429 the fake API answers
SENT_AT = "x_bench_virtual_sent_at"  # not a Bot API parameter: the fake's view of the virtual clock
ADDRESS = AddressInput("张三丰", "13812345678", "上海", "浦东新区世纪大道100号8楼", region="上海市")


class VirtualClock:
    """Time for a discrete-event run: real time, plus the waits nobody had to sit through.

    The clock follows real time (our processing costs what it costs on this machine) and jumps to the
    earliest sleeper's wake-up only when the system is *idle*: every piece of work is waiting on this
    clock (a rate-limit wait, a digest window, the periodic job's next turn). It knows it is idle when
    nobody has read it, slept on it or sent through the fake API for ``quiet`` real seconds: the digest
    pacer reads it for every paid order and the limiter for every send, so while orders are being
    processed it does not jump (in a real run a wait overlaps that work; skipping it then would count the same
    second twice and make the rate err low). Time never jumps past a wake-up, so no wait is cut short,
    and it never runs behind real time either: Redis expires the limiter's keys in real milliseconds,
    and a clock slower than real time would see a chat's schedule vanish before its virtual second
    was over. So ``virtual >= real``: the rate is measured against max(real, Telegram-bound) time.
    A database call slower than ``quiet`` can pass for idleness: that only makes the rate err low.
    """

    def __init__(self, quiet: float = 0.02) -> None:
        self.t = 0.0
        self.quiet = quiet
        self.skipped = 0.0  # seconds jumped over while idle
        self._real_start = time.perf_counter()
        self._last_activity = self._real_start
        self._waiting: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def start(self) -> None:
        """Time starts now (not when the clock was made: setting up merchants and paying the orders
        is not notification time, and nothing waits on the clock before this)."""
        self._real_start = self._last_activity = time.perf_counter()
        self.t = self.skipped = 0.0

    def touch(self) -> None:
        """Something happened (a read, a sleep, an API call): the system is not idle."""
        self._last_activity = time.perf_counter()

    def now(self) -> float:
        self.touch()
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.touch()
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (self.t + seconds, next(self._order), woken))
        await woken

    async def drive(self, stop: asyncio.Event, step: float = 0.002) -> None:
        while not stop.is_set():
            await asyncio.sleep(step)
            real = time.perf_counter() - self._real_start
            self.t = max(self.t, real + self.skipped)
            idle = time.perf_counter() - self._last_activity >= self.quiet
            if self._waiting and idle and self._waiting[0][0] > self.t:
                self.skipped += self._waiting[0][0] - self.t
                self.t = self._waiting[0][0]
            while self._waiting and self._waiting[0][0] <= self.t:
                _, _, woken = heapq.heappop(self._waiting)
                if not woken.done():
                    woken.set_result(None)
                self.touch()


class FakeBotApi:
    """``POST /bot<token>/<method>`` on loopback with Telegram's send limits on the virtual clock."""

    def __init__(self, clock: VirtualClock, global_rate: int = 30, per_chat_interval: float = 1.0) -> None:
        self.clock = clock
        self.global_rate = global_rate
        self.per_chat_interval = per_chat_interval
        self.sent: list[tuple[str, str, float]] = []  # chat, text, virtual time
        self.http_429 = 0
        self._last_by_chat: dict[str, float] = {}
        self._recent: list[float] = []
        self._ids = 1000

    async def handle(self, request: web.Request) -> web.Response:
        self.clock.touch()
        method = request.match_info["method"]
        form: dict[str, Any] = dict(await request.post())
        if method != "sendMessage":
            return web.json_response({"ok": True, "result": True})
        now = float(form.get(SENT_AT) or self.clock.t)
        chat = str(form.get("chat_id"))
        self._recent = [t for t in self._recent if t > now - 1.0]
        last = self._last_by_chat.get(chat)
        wait = 0.0
        if len(self._recent) >= self.global_rate:
            wait = self._recent[0] + 1.0 - now
        if last is not None and now - last < self.per_chat_interval - 1e-6:
            wait = max(wait, last + self.per_chat_interval - now)
        if wait > 0:
            self.http_429 += 1
            if DEBUG:
                print("429", chat, now, last, len(self._recent), self._recent[:1], file=sys.stderr)
            retry = max(1, int(wait + 0.999))
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {retry}",
                    "parameters": {"retry_after": retry},
                },
                status=429,
            )
        self._recent.append(now)
        self._last_by_chat[chat] = now
        self.sent.append((chat, str(form.get("text", "")), now))
        self._ids += 1
        message = {
            "message_id": self._ids,
            "date": 1_700_000_000,
            "chat": {"id": int(chat), "type": "private"},
            "text": form.get("text", ""),
        }
        return web.json_response({"ok": True, "result": message})


class StampingSession(AiohttpSession):
    """A real HTTP session that stamps each call with the virtual time it leaves at: loopback transit
    takes real time during which other tasks move the virtual clock, and a zero-latency network is the
    model the limits are checked against."""

    def __init__(self, clock: VirtualClock, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clock = clock

    def build_form_data(self, bot: Bot, method: TelegramMethod[TelegramType]) -> FormData:
        form = super().build_form_data(bot, method)
        form.add_field(SENT_AT, repr(self.clock.t))
        return form


async def serve(api: FakeBotApi) -> tuple[web.AppRunner, int]:
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", api.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, runner.addresses[0][1]


async def merchants_with_chats(commerce: Commerce, count: int) -> list[str]:
    """``count`` active merchants, one product each, an owner with a bound Telegram chat; their SKUs."""
    commerce.operators.policy = OperatorPolicy(hash_time_cost=1, hash_memory_kib=256, hash_parallelism=1)
    await commerce.catalog.create_category("bench", {"zh-Hans": "测试", "en": "Bench"})
    skus = []
    for i in range(count):
        code = f"m{i:03d}"
        await commerce.merchants.register(
            code, {"zh-Hans": f"店{i}", "en": f"Shop {i}"}, status=MerchantStatus.ACTIVE
        )
        sku = f"{code}-SKU"
        await commerce.catalog.create_product(
            ProductDraft(
                f"{code}-P",
                code,
                "bench",
                {"zh-Hans": "杯子", "en": "Mug"},
                {"zh-Hans": "瓷", "en": "China"},
                [VariantDraft(sku, {"size": "std"}, 1990, 100_000)],
            )
        )
        await commerce.catalog.publish(f"{code}-P")
        owner = await commerce.operators.create(
            f"owner@{code}.example",
            "bench-password-123",
            OperatorRole.MERCHANT_OWNER,
            merchant_code=code,
            display_name=code,
            language="zh-Hans" if i % 2 else "en",
            actor=SYSTEM_ACTOR,
        )
        bind_code = await commerce.operators.issue_binding_code(owner.public_id, Actor(owner.public_id, None))
        await commerce.operators.redeem_binding_code("telegram", str(MERCHANT_CHAT_BASE + i), bind_code)
        skus.append(sku)
    return skus


async def paid_orders(commerce: Commerce, skus: list[str], count: int, concurrency: int = 8) -> list[str]:
    """``count`` orders, round-robin over the merchants, each paid (shoppers chat on the web)."""
    shoppers = [await commerce.customers.identify("web", f"bench-{i}", language="zh-Hans") for i in range(50)]
    numbers: list[str] = []
    jobs = iter(range(count))

    async def worker() -> None:
        for i in jobs:
            order = await commerce.orders.place(
                shoppers[i % len(shoppers)].id,
                ADDRESS,
                f"bench-{i}",
                items=[LineRequest(skus[i % len(skus)], 1)],
            )
            await commerce.payments.sandbox_pay((await commerce.payments.start(order.number)).payment_id)
            numbers.append(order.number)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return numbers


async def run(orders: int, merchants: int) -> dict[str, object]:
    base = load_settings()
    clock = VirtualClock()
    api = FakeBotApi(clock)
    api_runner, port = await serve(api)
    async with scratch_database(base) as db_url:
        settings = base.model_copy(update={"database_url": db_url})
        # our limiter spaces one chat's messages a second apart with no burst, as the fake API demands
        telegram = TelegramSettings(bot_token=TEST_TOKEN, webhook_secret="bench-secret", per_chat_burst=1)
        session = StampingSession(clock, api=TelegramAPIServer.from_base(f"http://127.0.0.1:{port}"))

        def channel(context: ChannelContext) -> TelegramChannel:
            return TelegramChannel(context, telegram, session=session, timer=clock)

        runtime = await build_runtime(settings, channels={"telegram": channel})
        redis = runtime.container.redis
        for pattern in ("shopbot:{merchops}:*", "{tg:42}:rate:*", "shopbot:tg:sent:*", "shopbot:pushed:*"):
            async for key in redis.scan_iter(match=pattern, count=1000):
                await redis.delete(key)
        subscriber = next(
            s
            for s in runtime.notifier.subscribers.of(PaymentCaptured.name)
            if isinstance(s, PaidOrderForMerchants)
        )
        subscriber.pacer = OrderPacer(redis, clock)  # the digest window on the same virtual clock
        commerce = runtime.commerce
        skus = await merchants_with_chats(commerce, merchants)
        setup_started = time.perf_counter()
        numbers = await paid_orders(commerce, skus, orders)
        setup_seconds = time.perf_counter() - setup_started

        stop = asyncio.Event()
        clock.start()
        driver = asyncio.create_task(clock.drive(stop))
        started_wall, started_virtual = time.perf_counter(), clock.now()
        number_pattern = re.compile("|".join(re.escape(n) for n in sorted(numbers, key=len, reverse=True)))
        relay = runtime.outbox_relay()
        while True:
            delivered = await relay.drain()
            flushed = await flush_merchant_digests(runtime.notifier)
            if await subscriber.pacer.waiting() or await subscriber.pacer.unsent():
                await clock.sleep(0.1)  # the periodic job's next turn, a tenth of a second later
            elif not delivered and not flushed:
                break
        wall = time.perf_counter() - started_wall
        virtual = clock.now() - started_virtual
        stop.set()
        await driver
        await runtime.aclose()
    await api_runner.cleanup()

    merchant_chats = {str(MERCHANT_CHAT_BASE + i) for i in range(merchants)}
    mentions: Counter[str] = Counter()
    messages = 0
    for chat, text, _at in api.sent:
        if chat in merchant_chats:
            messages += 1
            mentions.update(number_pattern.findall(text))
    lost = sum(1 for n in numbers if mentions[n] == 0)
    duplicated = sum(max(0, mentions[n] - 1) for n in numbers)
    return {
        "bench": "merchant_notify",
        "orders": orders,
        "merchants": merchants,
        "orders_paid_setup_s": round(setup_seconds, 1),
        "telegram_messages": messages,
        "orders_per_message": round(orders / max(1, messages), 2),
        "virtual_seconds": round(virtual, 2),
        "idle_seconds_skipped": round(clock.skipped, 2),
        # the time a real run would take: our processing (real) with the waits it overlaps, plus the
        # waits nobody had to sit through here (skipped while idle); never less than the real time
        "orders_notified_per_s": round(orders / max(virtual, wall), 1) if virtual > 0 else None,
        "target_per_s": 28,
        "wall_seconds": round(wall, 2),
        "orders_notified_per_wall_s": round(orders / wall, 1),
        "lost": lost,
        "duplicated": duplicated,
        "http_429": api.http_429,
        "database": "postgresql" if db_url.startswith("postgresql") else "sqlite",
        "redis": "in-process (fakeredis)" if base.redis_url.startswith("memory://") else "server",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--merchants", type=int, default=50)
    args = parser.parse_args()
    figures = asyncio.run(run(args.orders, args.merchants))
    print(
        f"{figures['orders']} paid orders, {figures['merchants']} merchants: "
        f"{figures['telegram_messages']} Telegram messages ({figures['orders_per_message']} orders each)"
    )
    print(
        f"notified in {figures['virtual_seconds']} s of Telegram time: {figures['orders_notified_per_s']} "
        f"orders/s (target >= {figures['target_per_s']}); {figures['wall_seconds']} s wall "
        f"({figures['orders_notified_per_wall_s']} orders/s on this machine)"
    )
    print(f"lost {figures['lost']}, duplicated {figures['duplicated']}, HTTP 429 {figures['http_429']}")
    emit_json(figures)


if __name__ == "__main__":
    main()
