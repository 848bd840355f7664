"""``shopbot serve`` (HTTP app + background jobs), ``shopbot worker`` and the demo server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time

import typer
from aiohttp import web

from bot.bootstrap import build_runtime
from bot.http.app import create_app
from bot.observability.logs import configure_logging
from bot.runtime import Runtime, settle_heap
from bot.settings import Settings, load_settings
from commerce_core.api import migrate_database as upgrade

log = logging.getLogger("shopbot.serve")


async def run_server(
    runtime: Runtime, host: str, port: int, *, jobs: bool = True, stop: asyncio.Event | None = None
) -> None:
    app = create_app(runtime)
    settle_heap(runtime)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    job_task = asyncio.create_task(runtime.run_jobs()) if jobs else None
    # the channels' own work (Telegram's update worker or long polling, WeChat Pay reconciliation)
    # runs where the HTTP app runs, whatever ``jobs`` says
    channels_stop = asyncio.Event()
    channel_jobs = asyncio.create_task(runtime.run_channel_jobs(channels_stop))
    try:
        await stop.wait()
    finally:
        runtime.stop()
        channels_stop.set()
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(channel_jobs, timeout=5)
        if job_task:
            await job_task
        await runner.cleanup()


def serve(
    host: str | None = typer.Option(None),
    port: int | None = typer.Option(None),
    jobs: bool = typer.Option(True, help="also run the background jobs in this process"),
) -> None:
    """Run the HTTP app (web chat, webhooks, /healthz) and the background jobs."""
    settings = load_settings()
    configure_logging(settings.log)

    async def go() -> None:
        started = time.monotonic()
        await upgrade(settings.db_url)
        log.info("database migrated (%.1f s)", time.monotonic() - started)
        model_cache = settings.data_dir / "nlu"
        if not any(model_cache.glob("intent-*.npz")):
            log.warning("no language model cached in %s: training one (a minute or more)", model_cache)
        bind = (host or settings.http_host, port or settings.http_port)
        # one process listens on a host's port at a time: that names its slot (see bot.turns.Owner)
        instance = settings.instance or f"{socket.gethostname()}:{bind[1]}"
        runtime = await build_runtime(settings.model_copy(update={"instance": instance}))
        log.info("ready in %.1f s, listening on http://%s:%d", time.monotonic() - started, *bind)
        try:
            await run_server(runtime, *bind, jobs=jobs)
        finally:
            await runtime.aclose()

    asyncio.run(go())


def worker(
    check: bool = typer.Option(False, "--check", help="run the jobs once and exit (health check)"),
    interval: float = typer.Option(2.0, help="seconds between rounds"),
) -> None:
    """Run the background jobs: outbox notifications, payment timeouts, carrier tracking, refunds."""
    settings = load_settings()
    configure_logging(settings.log)

    async def go() -> None:
        runtime = await build_runtime(settings)
        try:
            if check:
                typer.echo(str(await runtime.tick()))
            else:
                await runtime.run_jobs(interval)
        finally:
            await runtime.aclose()

    asyncio.run(go())


def demo_settings() -> Settings:
    """The demo runs the simulated carrier fast (an hour per second) so parcels move while you watch,
    and its merchants ship paid orders after five seconds (``SHOPBOT_AUTO_SHIP_AFTER_SECONDS=0``: never)."""
    auto_ship = os.environ.get("SHOPBOT_AUTO_SHIP_AFTER_SECONDS", "5")
    return load_settings(carrier_speed=3600.0, auto_ship_after_seconds=auto_ship)
