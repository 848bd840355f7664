"""The Bot API session of the channel: one connection pool for every call of the process, and aiogram's
response models made once.

Why: profiling the Telegram path (bench/channels.py, issue 16) showed about a tenth of its CPU in
pydantic building ``Response[Message]`` again and again: aiogram asks for ``Response[T]`` on every
answer, and pydantic keeps those parametrised models only weakly, so once the garbage collector has
dropped one, the next answer rebuilds its schema (tens of milliseconds each). Holding them strongly
here makes every later lookup a dictionary hit. The pool (:mod:`keepalive`, ``limit`` connections;
aiogram's one aiohttp ``ClientSession`` for uploads) is shared by the update workers, pushed
notifications and the staff group, as the channel makes one session for all of them.

Calls without files are posted as JSON bodies, as the Bot API accepts them (:func:`json_ready`):
aiogram hands a ``FormData`` to aiohttp, which percent-encodes every field (``quote_plus``, a Python
loop per byte) after aiogram's ``prepare_value`` walked every value (and serialised each nested one to
JSON separately); together about a tenth of the Telegram path's own CPU in issue 16's profile. A JSON
body is one ``json.dumps`` of the method's fields, posted over the session's own kept-alive
connections (:mod:`keepalive`: aiohttp's client objects per request were most of a call's CPU).
Calls with files go through aiogram's own multipart path (aiohttp). :meth:`BotApiSession.send_quietly`
is the outbound path's call: Telegram's answer is checked (errors raise aiogram's exceptions, as
``bot(method)`` does) but a successful answer is not turned into aiogram models nobody reads (a
``Message`` with its ``Chat`` per reply sent).
"""

from __future__ import annotations

import datetime
import json
from enum import Enum
from http import HTTPStatus
from typing import Any, cast
from urllib.parse import urlsplit

from aiogram import Bot
from aiogram.client.default import Default
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InputFile
from pydantic import BaseModel

from bot.channels.telegram.keepalive import KeepAlivePool
from bot.channels.telegram.render import AnyCall, Call, api_name, built

#: how many Bot API calls may be in flight at once (Telegram allows ~30 messages/s per bot anyway)
POOL_CONNECTIONS = 100
#: ``Response[T]`` per returned type, held strongly (see the module docstring)
_RESPONSE_MODELS: dict[Any, Any] = {}
_PLAIN = (str, int, float, bool)


class _HasFile(Exception):
    """A value is a file to upload: the call needs aiogram's multipart body."""


def json_ready(value: Any, bot: Bot) -> Any:
    """``value`` (a method's ``model_dump``) as the Bot API reads it in a JSON body; None to leave out.

    What aiogram's ``prepare_value`` does for a form, without its per-field JSON strings: unset
    values (None) are left out, aiogram's ``Default`` markers take the bot's defaults, dates become
    Unix times, enums their values; a file raises :class:`_HasFile`."""
    kind = type(value)
    if kind in _PLAIN or value is None:
        return value
    if kind is dict:
        return {key: ready for key, item in value.items() if (ready := json_ready(item, bot)) is not None}
    if kind is list or kind is tuple:
        return [ready for item in value if (ready := json_ready(item, bot)) is not None]
    if isinstance(value, Default):
        return json_ready(bot.default[value.name], bot)
    if isinstance(value, InputFile):
        raise _HasFile
    if isinstance(value, datetime.timedelta):
        return round((datetime.datetime.now() + value).timestamp())
    if isinstance(value, datetime.datetime):
        return round(value.timestamp())
    if isinstance(value, Enum):
        return json_ready(value.value, bot)
    if isinstance(value, BaseModel):
        return json_ready(value.model_dump(warnings=False, exclude_none=True), bot)
    return value


def json_body(method: AnyCall, bot: Bot) -> bytes | None:
    """The JSON body of a call; None when a file goes with it (a multipart upload)."""
    if isinstance(method, Call):  # its fields as posted (render)
        return json.dumps(method.params, ensure_ascii=False, separators=(",", ":")).encode()
    try:
        fields = json_ready(method.model_dump(warnings=False, exclude_none=True), bot)
    except _HasFile:
        return None
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()


def keep_response_model(returning: Any) -> None:
    """Make sure pydantic's cache keeps ``Response[returning]`` (built at most once per process)."""
    if returning not in _RESPONSE_MODELS:
        _RESPONSE_MODELS[returning] = Response[returning]


def accepted(status: int, content: str) -> bool:
    """Telegram's answer says ``ok`` (any other answer goes through aiogram's checks and raises)."""
    if not HTTPStatus.OK <= status <= HTTPStatus.IM_USED:
        return False
    try:
        answer = json.loads(content)
    except ValueError:
        return False
    return isinstance(answer, dict) and answer.get("ok") is True


class BotApiSession(AiohttpSession):
    """aiogram's aiohttp session with JSON bodies and its response models kept alive."""

    def __init__(self, api_base: str = "", limit: int = POOL_CONNECTIONS) -> None:
        api = TelegramAPIServer.from_base(api_base.rstrip("/")) if api_base else PRODUCTION
        super().__init__(api=api, limit=limit)
        self._limit = limit
        self._pools: dict[str, KeepAlivePool] = {}
        self._targets: dict[tuple[str, str], tuple[KeepAlivePool, str]] = {}

    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        keep_response_model(method.__returning__)
        return super().check_response(bot, method, status_code, content)

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - aiogram's signature
    ) -> TelegramType:
        """aiogram's request, with a JSON body when no file goes with it."""
        body = json_body(method, bot)
        if body is None:  # an upload: aiogram's multipart form
            return await super().make_request(bot, method, timeout)
        status, content = await self._post(bot, method, body, timeout)
        response = self.check_response(bot, method, status, content)
        return cast(TelegramType, response.result)

    async def send_quietly(self, bot: Bot, method: AnyCall) -> None:
        """One call whose result the caller does not read: errors raise as from ``bot(method)``."""
        body = json_body(method, bot)
        if body is None:
            await self.make_request(bot, built(method))
            return
        status, content = await self._post(bot, method, body, None)
        if not accepted(status, content):
            self.check_response(bot, built(method), status, content)  # raises aiogram's error for it

    async def _post(self, bot: Bot, method: AnyCall, body: bytes, seconds: int | None) -> tuple[int, str]:
        """One JSON call over the kept-alive pool (:mod:`keepalive`); errors as aiogram's."""
        key = (bot.token, api_name(method))
        target = self._targets.get(key)
        if target is None:
            url = urlsplit(self.api.api_url(token=bot.token, method=key[1]))
            origin = f"{url.scheme}://{url.netloc}"
            if origin not in self._pools:
                self._pools[origin] = KeepAlivePool(origin, self._limit)
            target = self._targets[key] = (
                self._pools[origin],
                url.path + (f"?{url.query}" if url.query else ""),
            )
        pool, path = target
        try:
            status, content = await pool.post(path, body, self.timeout if seconds is None else seconds)
        except TimeoutError as error:
            raise TelegramNetworkError(method=built(method), message="Request timeout error") from error
        except OSError as error:
            message = f"{type(error).__name__}: {error}"
            raise TelegramNetworkError(method=built(method), message=message) from error
        return status, content.decode("utf-8", "replace")

    async def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
        await super().close()
