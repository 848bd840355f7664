"""Telegram webhook benchmark, one process, one run, side by side:

* our ingest: ``POST /telegram/webhook`` on the full HTTP app: secret checked in constant time, update
  stored durably (de-dup + Redis stream, one Lua call), 200 -- updates/s;
* a bare aiogram webhook handler (``SimpleRequestHandler`` + a no-op handler) on the same aiohttp stack
  -- updates/s; target: ours at least 50% of it;
* full turns/s: stored text updates processed by the workers through the dispatcher, pipeline, NLU,
  dialogs, commerce and Telegram rendering into a recording Bot session (no network, virtual rate-limit
  clock).

Redis and the database server come from the app settings (``SHOPBOT_REDIS_URL``, ``SHOPBOT_DATABASE_URL``;
a scratch database is created and dropped). Prints figures for people, then one JSON line.

    python bench/webhook.py [--updates 3000] [--concurrency 32] [--turns 200]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiogram import Bot, Dispatcher
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import ClientSession, TCPConnector, web

from bench._common import emit_json, scratch_database
from bot.bootstrap import build_runtime
from bot.channels.base import ChannelContext
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.http import SECRET_HEADER
from bot.channels.telegram.session import TEST_TOKEN, RecordingSession
from bot.channels.telegram.settings import TelegramSettings
from bot.cli.commerce import ensure_demo_catalogue
from bot.http.app import create_app
from bot.infra.ratelimit import VirtualTimer
from bot.settings import load_settings

SECRET = "bench-secret-token"
UPDATE_IDS = itertools.count(10_000_000)


def update_body(chat: int, text: str) -> bytes:
    return json.dumps(
        {
            "update_id": next(UPDATE_IDS),
            "message": {
                "message_id": 1,
                "date": 1_700_000_000,
                "chat": {"id": chat, "type": "private", "first_name": "B"},
                "from": {"id": chat, "is_bot": False, "first_name": "B", "language_code": "zh-hans"},
                "text": text,
            },
        },
        ensure_ascii=False,
    ).encode()


async def serve(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, port


async def hammer(url: str, bodies: list[bytes], concurrency: int, headers: dict[str, str]) -> float:
    """Post every body with ``concurrency`` clients; returns accepted updates per second."""
    queue = iter(bodies)
    async with ClientSession(connector=TCPConnector(limit=concurrency)) as http:

        async def client() -> None:
            for body in queue:
                async with http.post(url, data=body, headers=headers) as response:
                    if response.status != 200:
                        raise RuntimeError(f"{url}: HTTP {response.status}")
                    await response.read()

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        return len(bodies) / (time.perf_counter() - started)


async def run(updates: int, concurrency: int, turns: int) -> dict[str, object]:
    base = load_settings()
    async with scratch_database(base) as db_url:
        settings = base.model_copy(update={"database_url": db_url})
        telegram = TelegramSettings(bot_token=TEST_TOKEN, webhook_secret=SECRET, claim_idle_seconds=0.0)
        session = RecordingSession()

        def recording(context: ChannelContext) -> TelegramChannel:
            return TelegramChannel(context, telegram, session=session, timer=VirtualTimer())

        runtime = await build_runtime(settings, channels={"telegram": recording})
        await ensure_demo_catalogue(runtime.container.commerce, quiet=True)
        await runtime.refresh_catalogue()
        channel = runtime.channels["telegram"]
        assert isinstance(channel, TelegramChannel)
        ours = create_app(runtime)  # the channel's update worker is not started: ingest only

        bare_bot = Bot(TEST_TOKEN, session=RecordingSession())
        dispatcher = Dispatcher()

        @dispatcher.message()
        async def noop(message: Message) -> None:
            return None

        bare = web.Application()
        SimpleRequestHandler(dispatcher=dispatcher, bot=bare_bot, secret_token=SECRET).register(
            bare, path="/bare"
        )
        our_runner, our_port = await serve(ours)
        bare_runner, bare_port = await serve(bare)
        headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
        try:
            warm = [update_body(1, "你好") for _ in range(200)]
            await hammer(f"http://127.0.0.1:{bare_port}/bare", warm, concurrency, headers)
            await hammer(f"http://127.0.0.1:{our_port}/telegram/webhook", warm, concurrency, headers)
            await channel.inbox.redis.delete(channel.inbox.stream)
            results: dict[str, list[float]] = {"ours": [], "bare": []}
            for _round in range(3):  # interleaved, best of three: both see the same machine state
                bodies = [update_body(100 + i % 500, "你好") for i in range(updates)]
                results["bare"].append(
                    await hammer(f"http://127.0.0.1:{bare_port}/bare", bodies, concurrency, headers)
                )
                bodies = [update_body(100 + i % 500, "你好") for i in range(updates)]
                results["ours"].append(
                    await hammer(
                        f"http://127.0.0.1:{our_port}/telegram/webhook", bodies, concurrency, headers
                    )
                )
                await channel.inbox.redis.delete(channel.inbox.stream)
        finally:
            await our_runner.cleanup()
            await bare_runner.cleanup()
            await bare_bot.session.close()

        # full turns: fresh chats searching, through the inbox workers and Telegram rendering
        for i in range(turns):
            await channel.ingest(update_body(50_000 + i, "有没有红色连衣裙"))
        before = len(session.calls)
        started = time.perf_counter()
        processed = await channel.drain()
        turn_rate = processed / (time.perf_counter() - started)
        sent = len(session.calls) - before
        await runtime.aclose()
    ours_rate, bare_rate = max(results["ours"]), max(results["bare"])
    return {
        "bench": "telegram_webhook",
        "updates": updates,
        "concurrency": concurrency,
        "ingest_updates_per_s": round(ours_rate, 1),
        "bare_aiogram_updates_per_s": round(bare_rate, 1),
        "ingest_vs_bare": round(ours_rate / bare_rate, 3),
        "target_ratio": 0.5,
        "turns": turns,
        "turns_per_s": round(turn_rate, 1),
        "bot_api_calls_per_turn": round(sent / max(1, processed), 2),
        "redis": "in-process (fakeredis)" if load_settings().redis_url.startswith("memory://") else "server",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--updates", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--turns", type=int, default=200)
    args = parser.parse_args()
    figures = asyncio.run(run(args.updates, args.concurrency, args.turns))
    print(f"{'':32}{'updates/s':>12}")
    print(f"{'our webhook (verify+store+200)':32}{figures['ingest_updates_per_s']:>12}")
    print(f"{'bare aiogram webhook handler':32}{figures['bare_aiogram_updates_per_s']:>12}")
    print(f"ratio {figures['ingest_vs_bare']} (target >= {figures['target_ratio']})")
    print(
        f"full turns through Telegram rendering: {figures['turns_per_s']} turns/s "
        f"({figures['bot_api_calls_per_turn']} Bot API calls per turn), Redis: {figures['redis']}"
    )
    emit_json(figures)


if __name__ == "__main__":
    main()
