"""The Bot API session of the channel: one aiohttp connection pool for every call of the process, and
aiogram's response models made once.

Why: profiling the Telegram path (bench/channels.py, issue 16) showed about a tenth of its CPU in
pydantic building ``Response[Message]`` again and again: aiogram asks for ``Response[T]`` on every
answer, and pydantic keeps those parametrised models only weakly, so once the garbage collector has
dropped one, the next answer rebuilds its schema (tens of milliseconds each). Holding them strongly
here makes every later lookup a dictionary hit. The pool (aiogram's one ``ClientSession`` per
session, keep-alive, ``limit`` connections) is shared by the update workers, pushed notifications and
the staff group, as the channel makes one session for all of them.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

#: how many Bot API calls may be in flight at once (Telegram allows ~30 messages/s per bot anyway)
POOL_CONNECTIONS = 100
#: ``Response[T]`` per returned type, held strongly (see the module docstring)
_RESPONSE_MODELS: dict[Any, Any] = {}


def keep_response_model(returning: Any) -> None:
    """Make sure pydantic's cache keeps ``Response[returning]`` (built at most once per process)."""
    if returning not in _RESPONSE_MODELS:
        _RESPONSE_MODELS[returning] = Response[returning]


class BotApiSession(AiohttpSession):
    """aiogram's aiohttp session with its response models kept alive."""

    def __init__(self, api_base: str = "", limit: int = POOL_CONNECTIONS) -> None:
        api = TelegramAPIServer.from_base(api_base.rstrip("/")) if api_base else PRODUCTION
        super().__init__(api=api, limit=limit)

    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        keep_response_model(method.__returning__)
        return super().check_response(bot, method, status_code, content)
