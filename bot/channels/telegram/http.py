"""Telegram webhook routes (filled in by the Telegram channel work)."""

from __future__ import annotations

from aiohttp import web

from bot.runtime import Runtime


def setup_routes(app: web.Application, runtime: Runtime) -> None:
    """Register the Telegram webhook on ``app`` when Telegram is configured."""


async def start_polling(runtime: Runtime) -> object | None:
    """Start long polling when a bot token is configured (the demo calls this); None when not."""
    return None
