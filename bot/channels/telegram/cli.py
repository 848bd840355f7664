"""``shopbot telegram set-webhook URL | delete-webhook | poll`` and ``shopbot replay telegram FILE...``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import typer

from bot.bootstrap import build_runtime
from bot.channels.base import ChannelContext, ChannelFactory
from bot.channels.telegram.channel import CHANNEL, TelegramChannel
from bot.channels.telegram.polling import ALLOWED_UPDATES
from bot.channels.telegram.session import TEST_TOKEN, RecordedCall, RecordingSession
from bot.channels.telegram.settings import TelegramSettings
from bot.infra.ratelimit import VirtualTimer
from bot.runtime import Runtime, settle_heap
from bot.settings import load_settings
from commerce_core.api import migrate_database as upgrade

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Telegram: webhook set-up and polling.")


def _settings() -> TelegramSettings:
    settings = load_settings().telegram
    if not settings.bot_token:
        raise typer.BadParameter("set SHOPBOT_TELEGRAM_BOT_TOKEN first")
    return settings


@app.command("set-webhook")
def set_webhook(url: str = typer.Argument(..., help="public https URL of /telegram/webhook")) -> None:
    """Point Telegram at our webhook, with the secret token it must send back."""
    settings = _settings()
    if not settings.webhook_secret:
        raise typer.BadParameter("webhook mode needs SHOPBOT_TELEGRAM_WEBHOOK_SECRET")
    if not url.startswith("https://"):
        raise typer.BadParameter("Telegram only calls https:// webhooks")

    async def go() -> bool:
        from aiogram import Bot

        async with Bot(settings.bot_token or "") as bot:
            return await bot.set_webhook(
                url, secret_token=settings.webhook_secret, allowed_updates=ALLOWED_UPDATES, max_connections=40
            )

    typer.echo(f"webhook set: {asyncio.run(go())}")


@app.command("delete-webhook")
def delete_webhook(
    drop_pending: bool = typer.Option(False, help="also drop updates Telegram still holds"),
) -> None:
    """Remove the webhook (e.g. before switching to polling)."""
    settings = _settings()

    async def go() -> bool:
        from aiogram import Bot

        async with Bot(settings.bot_token or "") as bot:
            return await bot.delete_webhook(drop_pending_updates=drop_pending)

    typer.echo(f"webhook deleted: {asyncio.run(go())}")


@app.command("poll")
def poll() -> None:
    """Long polling plus the background jobs, without the HTTP app."""
    settings = load_settings()
    if not settings.telegram.bot_token:
        raise typer.BadParameter("set SHOPBOT_TELEGRAM_BOT_TOKEN first")

    async def go() -> None:
        await upgrade(settings.db_url)
        runtime = await build_runtime(settings)
        channel = runtime.channels[CHANNEL]
        assert isinstance(channel, TelegramChannel)
        settle_heap(runtime)
        jobs = asyncio.create_task(runtime.run_jobs())
        try:
            await channel.run_polling()
        finally:
            runtime.stop()
            await jobs
            await runtime.aclose()

    asyncio.run(go())


def load_update(path: Path, number: int) -> dict[str, Any]:
    """An Update from a file; a bare Message is wrapped as ``{"update_id": N, "message": ...}``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and "update_id" not in data and "message_id" in data:
        data = {"update_id": number, "message": data}
    if not isinstance(data, dict):
        raise typer.BadParameter(f"{path}: not a JSON object")
    return data


def replay_channel(session: RecordingSession) -> ChannelFactory:
    """A Telegram channel whose bot records the Bot API calls instead of making them (for bootstrap)."""
    settings = TelegramSettings(bot_token=TEST_TOKEN, claim_idle_seconds=0.0, payment_provider_token="REPLAY")  # noqa: S106

    def create(context: ChannelContext) -> TelegramChannel:
        return TelegramChannel(context, settings, session=session, timer=VirtualTimer())

    return create


async def replay_updates(runtime: Runtime, updates: list[dict[str, Any]]) -> list[RecordedCall]:
    """Each update through ingest, the inbox, the dispatcher, the pipeline and rendering, then the
    background jobs (notifications); the Bot API calls that would have been made, in order.
    ``runtime``'s Telegram channel must record its calls (built with :func:`replay_channel`)."""
    channel = runtime.channels.get(CHANNEL)
    if not isinstance(channel, TelegramChannel) or not isinstance(channel.bot.session, RecordingSession):
        raise ValueError("replay needs a runtime whose Telegram channel records calls (replay_channel)")
    session = channel.bot.session
    already = len(session.calls)
    for update in updates:
        await channel.ingest(json.dumps(update).encode())
        await channel.drain()
    await runtime.tick()
    return session.calls[already:]


def replay_telegram(files: list[Path] = typer.Argument(..., exists=True, dir_okay=False)) -> None:
    """Run Update JSON files through the whole pipeline with a recording bot (no network); print the
    Bot API calls it would make, one JSON line each. Mounted as ``shopbot replay telegram``.

    Like ``shopbot chat``, an empty database gets the demo catalogue first (quietly: the output stays
    JSON lines), so a search replayed on a fresh data dir finds products instead of nothing."""
    from bot.cli.commerce import ensure_demo_catalogue

    settings = load_settings()
    updates = [load_update(path, 1_000_000 + n) for n, path in enumerate(files)]

    async def go() -> list[RecordedCall]:
        await upgrade(settings.db_url)
        runtime = await build_runtime(settings, channels={CHANNEL: replay_channel(RecordingSession())})
        try:
            await ensure_demo_catalogue(runtime.container.commerce, quiet=True)
            await runtime.refresh_catalogue()
            return await replay_updates(runtime, updates)
        finally:
            await runtime.aclose()

    for call in asyncio.run(go()):
        typer.echo(call.to_json())
