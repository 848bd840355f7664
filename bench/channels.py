"""Channel paths at pipeline speed: the same seeded 8-turn journeys through every way in, one run.

(a) the pipeline alone; (b) Telegram: webhook -> inbox -> workers -> a fake Bot API on loopback (in its
own process; Telegram's send limits on a virtual clock, so the figure measures our code; the updates
are posted by a lean keep-alive client with pre-serialised bodies, so the load generator in this
process costs little of the CPU per turn: see ``bench._paths``); (c) WeChat
safe mode (signed and encrypted) with passive replies; (d) the web chat HTTP API; each with
``--concurrency`` (100) conversations at once on the PostgreSQL and Redis of the app settings (a
scratch database is created and dropped). Then (d) against ``shopbot serve`` processes: one, and two
behind a round-robin client (each request to the next server; ``--no-serve`` skips this).

What is billed to whom. The load generator runs in this process, so its CPU counts in "CPU/turn
here"; it is kept cheap rather than subtracted (see ``bench._paths``): Telegram updates and web chat
posts go out as pre-built requests over kept-alive connections (no client library per request),
WeChat requests through one keep-alive aiohttp session, sealed with a cipher built once (the channel's
own ``Cryptor.seal``, as WeChat's servers keep theirs), replies never decrypted (the buttons a turn
showed are read off the channel's renderer). In issue 16's profile what remained of the aiohttp client
was about 0.3-0.5 ms per turn on web and WeChat. Notification delivery is reported apart: after each
path the outbox relay delivers what its turns left (``relay_after_cpu_ms_per_turn``): the pipeline
path relays nothing while it runs, the web path relays the paying shopper's own notifications inline
(the confirmation is in the pay button's answer; in this journey that is all of that shopper's, the
order placed included), so "CPU/turn here" alone bills the web path for work the pipeline path defers.
``--profile DIR`` writes a cProfile (CPU time) of each path, and of the relay after it, into DIR.

Each path runs ``--rounds`` times in alternating order (load from other processes falls on all alike)
and its best round counts. Prints turns/s, p50/p99 and this process's CPU per turn for each, then one
JSON line with ``pipeline_turns_per_s``, the ratios of each path to (a) and ``two_process_ratio`` (two
serve processes over one), and ``cpu_ratios``: each path's CPU per turn against the pipeline's, what
both left for the relay included (a reading, not a target). Targets (issue 16): pipeline >= 1,500
turns/s, each ratio >= 0.7, two_process_ratio >= 0.95. On a loaded machine the turns/s swing with
other processes' load; the ratios of alternating rounds, and the CPU per turn, are the figures to
compare.

    SHOPBOT_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
    SHOPBOT_REDIS_URL=redis://127.0.0.1:6379/7 python bench/channels.py [--journeys 300]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from aiohttp import web

from bench._common import emit_json, scratch_database
from bench._paths import PipelinePath, TelegramPath, WebPath, WeChatPath, client, drive
from bench._procs import fake_bot_api, shopbot_serve, wait_ready
from bench.turns import seed
from bot.bootstrap import build_runtime
from bot.channels.base import ChannelContext
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.session import TEST_TOKEN
from bot.channels.telegram.settings import TelegramSettings
from bot.channels.wechat.api import Recorder
from bot.channels.wechat.channel import WeChatChannel
from bot.channels.wechat.settings import WeChatSettings
from bot.http.app import create_app
from bot.infra.ratelimit import VirtualTimer
from bot.runtime import settle_heap
from bot.settings import load_settings

SECRET = "bench-secret-token"
WX_TOKEN, WX_APP_ID = "benchtoken", "wxbench000000000"
WX_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
#: what 100 shoppers from one address need: no per-IP / per-user flood limits (serve processes too)
NO_FLOOD_LIMITS = (
    "SHOPBOT_RATE_WEB_PER_IP",
    "SHOPBOT_RATE_WEB_PER_SESSION",
    "SHOPBOT_RATE_CHAT_USER_PER_MINUTE",
)


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


async def in_process(args: argparse.Namespace, url: str, botapi: str) -> dict[str, dict[str, float]]:
    """(a)-(d) in this process: one runtime with the Telegram and WeChat channels configured."""
    settings = load_settings(database_url=url)
    telegram = TelegramSettings(
        bot_token=TEST_TOKEN, webhook_secret=SECRET, mode="webhook", api_base=botapi, workers=args.workers
    )
    wechat = WeChatSettings.model_construct(
        **{
            **settings.wechat.model_dump(),
            "app_id": WX_APP_ID,
            "app_secret": "x",
            "token": WX_TOKEN,
            "encoding_aes_key": WX_AES_KEY,
            "mode": "safe",
        }
    )
    recorder = Recorder()

    def telegram_channel(context: ChannelContext) -> TelegramChannel:
        return TelegramChannel(context, telegram, timer=VirtualTimer())

    def wechat_channel(context: ChannelContext) -> WeChatChannel:
        return WeChatChannel(context, wechat, http=httpx.AsyncClient(transport=recorder.transport()))

    runtime = await build_runtime(settings, channels={"telegram": telegram_channel, "wechat": wechat_channel})
    results: dict[str, dict[str, float]] = {}
    stop = asyncio.Event()
    try:
        await seed(runtime, 20)
        settle_heap(runtime)
        tg, wx = runtime.channels["telegram"], runtime.channels["wechat"]
        assert isinstance(tg, TelegramChannel) and isinstance(wx, WeChatChannel)
        runner, base = await serve(create_app(runtime))
        async with client(args.concurrency) as http:
            paths: dict[str, Any] = {
                "pipeline": PipelinePath(runtime),
                # the pipeline as the web chat's turns meet it, without HTTP (tells the two apart)
                "pipeline_as_web": PipelinePath(runtime, "web"),
                "telegram": TelegramPath(tg, http, base, SECRET),
                "wechat": WeChatPath(wx, http, base, (WX_TOKEN, WX_AES_KEY, WX_APP_ID)),
                "web": WebPath([base]),
            }
            worker = asyncio.create_task(tg.run_worker(stop))
            try:
                names = args.paths.split(",")
                for name in names:
                    await drive(paths[name].turn, paths[name].user, concurrency=4, journeys=8)  # warm-up
                # rounds in alternating order (a b c d, d c b a, ...): load from other processes on
                # the machine falls on every path alike; each path's best round is reported
                for round_ in range(args.rounds):
                    for name in names if round_ % 2 == 0 else names[::-1]:
                        path = paths[name]
                        await runtime.relay_notifications()  # earlier paths' notifications: not billed
                        if args.profile:
                            figures = await profiled(name, args, path)
                        else:
                            figures = await drive(
                                path.turn, path.user, concurrency=args.concurrency, journeys=args.journeys
                            )
                        # what this path's turns left for the outbox relay (the pipeline path: all its
                        # order and payment notifications; the web path relays the payment one inline):
                        # delivered now, its CPU per turn reported apart so paths compare like for like
                        relay_cpu = time.process_time()
                        if args.profile:
                            await profiled_relay(name, args, runtime)
                        else:
                            await runtime.relay_notifications()
                        relay_cpu = time.process_time() - relay_cpu
                        figures["relay_after_cpu_ms_per_turn"] = round(relay_cpu / figures["turns"] * 1000, 3)
                        print(line(name, figures), flush=True)
                        if figures["turns_per_s"] > results.get(name, {}).get("turns_per_s", 0):
                            results[name] = figures
                wechat_path = paths["wechat"]
                if "wechat" in results and wechat_path.sent:
                    results["wechat"]["passive_share"] = round(wechat_path.passive / wechat_path.sent, 4)
            finally:
                stop.set()
                await worker
                paths["telegram"].poster.close()
                paths["wechat"].poster.close()
                paths["web"].close()
                await runner.cleanup()
    finally:
        await runtime.aclose()
    return results


async def profiled(name: str, args: argparse.Namespace, path: Any) -> dict[str, float]:
    import cProfile
    import pstats

    profile = cProfile.Profile(time.process_time)  # CPU time: the machine may be loaded
    profile.enable()
    figures = await drive(path.turn, path.user, concurrency=args.concurrency, journeys=args.journeys)
    profile.disable()
    out = Path(args.profile) / f"{name}.prof"
    profile.dump_stats(out)
    pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    return figures


async def profiled_relay(name: str, args: argparse.Namespace, runtime: Any) -> None:
    """What the path's turns left for the relay, profiled apart (``<path>.relay.prof``)."""
    import cProfile

    profile = cProfile.Profile(time.process_time)
    profile.enable()
    await runtime.relay_notifications()
    profile.disable()
    profile.dump_stats(Path(args.profile) / f"{name}.relay.prof")


async def serve_processes(args: argparse.Namespace, url: str, folder: Path) -> dict[str, dict[str, float]]:
    """(d) against one ``shopbot serve``, then two behind a round-robin client (same database)."""
    settings = load_settings(database_url=url)
    env = {
        "SHOPBOT_DATABASE_URL": url,
        "SHOPBOT_REDIS_URL": settings.redis_url,
        "SHOPBOT_DATA_DIR": str(settings.data_dir.resolve()),
        "SHOPBOT_TELEGRAM_MODE": "off",
        "SHOPBOT_LOG_LEVEL": "WARNING",
    }
    servers = [shopbot_serve(folder, env), shopbot_serve(folder, env)]
    results: dict[str, dict[str, float]] = {}
    try:
        for server in servers:
            wait_ready(server)
        setups = {"web_1_serve": [servers[0].base_url], "web_2_serve": [s.base_url for s in servers]}
        for bases in setups.values():
            path = WebPath(bases)
            await drive(path.turn, path.user, concurrency=4, journeys=8)  # warm-up
            path.close()
        for round_ in range(args.rounds):
            for label in list(setups) if round_ % 2 == 0 else list(setups)[::-1]:
                path = WebPath(setups[label])
                figures = await drive(
                    path.turn, path.user, concurrency=args.concurrency, journeys=args.journeys
                )
                path.close()
                print(line(label, figures), flush=True)
                if figures["turns_per_s"] > results.get(label, {}).get("turns_per_s", 0):
                    results[label] = figures
    finally:
        for server in servers:
            server.stop()
    return results


def line(name: str, r: dict[str, float]) -> str:
    return (
        f"  {name:<18} {r['turns']:>6} turns {r['turns_per_s']:>8} turns/s  "
        f"p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms  {r['cpu_ms_per_turn']} ms CPU/turn here"
    ) + (
        f" (+{r['relay_after_cpu_ms_per_turn']} relaying what it left)"
        if "relay_after_cpu_ms_per_turn" in r
        else ""
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--journeys", type=int, default=300, help="journeys per path (8 turns each)")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument(
        "--workers",
        type=int,
        default=100,
        help="Telegram chats processed at once (SHOPBOT_TELEGRAM_WORKERS, 16 by default in the product)",
    )
    parser.add_argument(
        "--paths",
        default="pipeline,telegram,wechat,web",
        help="in-process paths to run; pipeline_as_web is the pipeline with the web channel, no HTTP",
    )
    parser.add_argument("--rounds", type=int, default=2, help="rounds per path, in alternating order")
    parser.add_argument("--no-serve", action="store_true", help="skip the shopbot serve comparison")
    parser.add_argument("--profile", default="", help="a folder: cProfile each in-process path into it")
    args = parser.parse_args()
    for name in NO_FLOOD_LIMITS:
        os.environ.setdefault(name, "0")
    base = load_settings()
    print(
        f"Seeded 8-turn journeys, {args.concurrency} conversations at once, "
        f"{base.db_url.split('+')[0]} + {base.redis_url.split('://')[0]}:"
    )
    with tempfile.TemporaryDirectory(prefix="shopbot-channels-") as temp:
        folder = Path(temp)
        botapi = fake_bot_api(folder)
        try:
            async with scratch_database(base) as url:
                results = await in_process(args, url, botapi.base_url)
                if not args.no_serve:
                    results.update(await serve_processes(args, url, folder))
        finally:
            botapi.stop()
    pipeline = results.get("pipeline", {}).get("turns_per_s", 0.0)

    def ratio(name: str) -> float | None:
        rate = results.get(name, {}).get("turns_per_s")
        return round(rate / pipeline, 3) if rate and pipeline else None

    def cpu_ratio(name: str) -> float | None:
        """The pipeline's CPU per turn over the path's, each with what it left for the relay: the
        same work billed alike (the web path relays its payers' notifications inline, the pipeline
        path leaves them), and steadier than turns/s on a loaded machine."""
        path, base_ = results.get(name, {}), results.get("pipeline", {})
        if not path or not base_:
            return None
        mine = path["cpu_ms_per_turn"] + path.get("relay_after_cpu_ms_per_turn", 0.0)
        ours = base_["cpu_ms_per_turn"] + base_.get("relay_after_cpu_ms_per_turn", 0.0)
        return round(ours / mine, 3) if mine else None

    one = results.get("web_1_serve", {}).get("turns_per_s")
    two = results.get("web_2_serve", {}).get("turns_per_s")
    two_ratio = round(two / one, 3) if two and one else None
    figures = {
        "bench": "channels",
        "concurrency": args.concurrency,
        "journeys": args.journeys,
        "pipeline_turns_per_s": pipeline,
        "telegram_ratio": ratio("telegram"),
        "wechat_ratio": ratio("wechat"),
        "web_ratio": ratio("web"),
        "two_process_ratio": two_ratio,
        # like for like in CPU (relaying included): not a target of issue 16, a reading to explain it
        "cpu_ratios": {name: cpu_ratio(name) for name in ("telegram", "wechat", "web") if name in results},
        "paths": results,
        "targets": {"pipeline_turns_per_s": 1500, "ratio": 0.7, "two_process_ratio": 0.95},
    }
    print(
        f"ratios to the pipeline: telegram {figures['telegram_ratio']}, wechat {figures['wechat_ratio']}, "
        f"web {figures['web_ratio']}; two serve processes over one: {two_ratio}"
    )
    print(f"CPU per turn, relaying included, pipeline over path: {figures['cpu_ratios']}")
    emit_json(figures)


if __name__ == "__main__":
    import uvloop

    uvloop.run(main())
