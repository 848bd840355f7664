"""WeChat official-account routes (filled in by the WeChat channel work)."""

from __future__ import annotations

from aiohttp import web

from bot.runtime import Runtime


def setup_routes(app: web.Application, runtime: Runtime) -> None:
    """Register ``/wechat`` on ``app`` when WeChat is configured."""
