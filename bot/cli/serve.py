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
from bot.cli.workers import ServeWorkers
from bot.http.app import create_app
from bot.observability.logs import configure_logging
from bot.runtime import Runtime, settle_heap
from bot.settings import ConfigurationError, Settings, load_settings
from commerce_core.api import migrate_database as upgrade

log = logging.getLogger("shopbot.serve")


async def run_server(
    runtime: Runtime,
    host: str,
    port: int,
    *,
    jobs: bool = True,
    stop: asyncio.Event | None = None,
    reuse_port: bool = False,
) -> None:
    app = create_app(runtime)
    settle_heap(runtime)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    # reuse_port: the ``--workers`` processes all listen on the one port; the kernel spreads connections
    site = web.TCPSite(runner, host, port, reuse_port=reuse_port or None)
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
    workers: int = typer.Option(
        1, min=1, max=64, help="processes sharing the port (SO_REUSEPORT), each with its own slot"
    ),
) -> None:
    """Run the HTTP app (web chat, webhooks, /healthz) and the background jobs."""
    settings = load_settings()
    configure_logging(settings.log)
    bind = (host or settings.http_host, port or settings.http_port)
    # one process listens on a host's port at a time: that names its slot (see bot.turns.Owner)
    instance = settings.instance or f"{socket.gethostname()}:{bind[1]}"
    if workers == 1:
        asyncio.run(_serve_one(settings, instance, bind, jobs=jobs, migrate=True, reuse_port=False))
        return
    if settings.telegram.enabled and settings.telegram.polling_mode:
        typer.echo("--workers needs Telegram in webhook mode: only one process may long-poll a bot", err=True)
        raise typer.Exit(2)

    def serve_slot(slot: int) -> None:
        slot_settings = settings
        if "consumer" in settings.telegram.model_fields_set:  # a name given: one per worker all the same
            consumer = f"{settings.telegram.consumer}:w{slot}"
            slot_settings = settings.model_copy(
                update={"telegram": settings.telegram.model_copy(update={"consumer": consumer})}
            )
        slot_instance = f"{instance}:w{slot}"
        asyncio.run(_serve_one(slot_settings, slot_instance, bind, jobs=jobs, migrate=False, reuse_port=True))

    def migrate() -> None:
        asyncio.run(upgrade(settings.db_url))

    ServeWorkers(workers, serve_slot, port=bind[1], prepare=migrate).run()


async def _serve_one(
    settings: Settings,
    instance: str,
    bind: tuple[str, int],
    *,
    jobs: bool,
    migrate: bool,
    reuse_port: bool,
) -> None:
    started = time.monotonic()
    if migrate:
        await upgrade(settings.db_url)
        log.info("database migrated (%.1f s)", time.monotonic() - started)
    model_cache = settings.data_dir / "nlu"
    if not any(model_cache.glob("intent-*.npz")):
        log.warning("no language model cached in %s: training one (a minute or more)", model_cache)
    runtime = await build_runtime(with_instance(settings, instance))
    log.info("ready in %.1f s, listening on http://%s:%d (%s)", time.monotonic() - started, *bind, instance)
    try:
        await run_server(runtime, *bind, jobs=jobs, reuse_port=reuse_port)
    finally:
        await runtime.aclose()


def with_instance(settings: Settings, instance: str) -> Settings:
    """``settings`` for the process in slot ``instance``: its turn marks' owner and, unless set
    explicitly, its name in the Telegram inbox's consumer group.

    Why the consumer name too: a consumer reads its own pending entries first (after a restart, what it
    had not finished); two live processes sharing one name would each take the other's in-flight
    updates and answer them twice. One name per slot keeps a restart's pending entries its own.
    """
    update: dict[str, object] = {"instance": instance}
    if "consumer" not in settings.telegram.model_fields_set:
        update["telegram"] = settings.telegram.model_copy(update={"consumer": instance})
    return settings.model_copy(update=update)


def worker(
    check: bool = typer.Option(False, "--check", help="run the jobs once and exit (health check)"),
    interval: float = typer.Option(2.0, help="seconds between rounds"),
    channels: bool = typer.Option(
        False, help="also consume the channels' queues (the Telegram inbox; webhook mode), no HTTP"
    ),
) -> None:
    """Run the background jobs: outbox notifications, payment timeouts, carrier tracking, refunds."""
    settings = load_settings()
    configure_logging(settings.log)

    async def go() -> None:
        if channels and settings.telegram.enabled and settings.telegram.polling_mode:
            raise ConfigurationError("worker --channels needs Telegram in webhook mode (serve long-polls)")
        instance = settings.instance or f"{socket.gethostname()}:worker"
        runtime = await build_runtime(with_instance(settings, instance))
        try:
            if check:
                typer.echo(str(await runtime.tick()))
            elif channels:  # also the channels' consumers (the Telegram inbox, WeChat recovery)
                await run_worker(runtime, interval)
            else:
                await runtime.run_jobs(interval)
        finally:
            await runtime.aclose()

    asyncio.run(go())


async def run_worker(runtime: Runtime, interval: float) -> None:
    """The jobs and the channels' consumers until SIGTERM/SIGINT, then a graceful stop of both."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    job_task = asyncio.create_task(runtime.run_jobs(interval))
    channel_jobs = asyncio.create_task(runtime.run_channel_jobs(stop))
    await stop.wait()
    runtime.stop()
    with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
        await asyncio.wait_for(channel_jobs, timeout=5)
    await job_task


def demo_settings() -> Settings:
    """The demo runs the simulated carrier fast (an hour per second) so parcels move while you watch,
    and its merchants ship paid orders after five seconds (``SHOPBOT_AUTO_SHIP_AFTER_SECONDS=0``: never)."""
    auto_ship = os.environ.get("SHOPBOT_AUTO_SHIP_AFTER_SECONDS", "5")
    return load_settings(carrier_speed=3600.0, auto_ship_after_seconds=auto_ship)
