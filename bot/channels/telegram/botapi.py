"""The Bot API session of the channel: one aiohttp connection pool for every call of the process, and
aiogram's response models made once.

Why: profiling the Telegram path (bench/channels.py, issue 16) showed about a tenth of its CPU in
pydantic building ``Response[Message]`` again and again: aiogram asks for ``Response[T]`` on every
answer, and pydantic keeps those parametrised models only weakly, so once the garbage collector has
dropped one, the next answer rebuilds its schema (tens of milliseconds each). Holding them strongly
here makes every later lookup a dictionary hit. The pool (aiogram's one ``ClientSession`` per
session, keep-alive, ``limit`` connections) is shared by the update workers, pushed notifications and
the staff group, as the channel makes one session for all of them.

Calls without files are posted as a form body this module builds itself (:func:`form_body`): aiogram
hands a ``FormData`` to aiohttp, which percent-encodes it with ``urllib.parse.quote_plus``, a Python
loop per byte; for Chinese texts that was about 5% of the Telegram path's CPU (issue 16's profile).
The wire format stays ``application/x-www-form-urlencoded`` with the same fields (Telegram, and
every fake Bot API of the tests, read it alike); calls with files go through aiogram's own
multipart path.
"""

from __future__ import annotations

import re
from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InputFile
from aiohttp import ClientError, ClientTimeout

#: how many Bot API calls may be in flight at once (Telegram allows ~30 messages/s per bot anyway)
POOL_CONNECTIONS = 100
#: ``Response[T]`` per returned type, held strongly (see the module docstring)
_RESPONSE_MODELS: dict[Any, Any] = {}
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}
#: values sent as they are; any other is percent-encoded byte by byte (bytes.hex, in C)
URL_SAFE = re.compile(r"[A-Za-z0-9_.\-~]*")


def form_body(fields: dict[str, str]) -> bytes:
    """``key=value&...`` with every value that is not plainly safe percent-encoded in full.

    Encoding every byte of such a value (``%E6%9C%89``, ``%20`` ...) is valid form encoding and is one
    C call per value, where ``quote_plus`` loops in Python over the bytes."""
    return "&".join(
        f"{key}={value}" if URL_SAFE.fullmatch(value) else f"{key}=%{value.encode().hex('%')}"
        for key, value in fields.items()
    ).encode()


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

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - aiogram's signature
    ) -> TelegramType:
        """aiogram's request, with the form body of :func:`form_body` when no file goes with it."""
        files: dict[str, InputFile] = {}
        fields: dict[str, str] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files)
            if prepared:
                fields[key] = prepared
        if files:  # an upload: aiogram's multipart form
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        try:
            async with session.post(
                url,
                data=form_body(fields),
                headers=FORM_HEADERS,
                timeout=ClientTimeout(total=self.timeout if timeout is None else timeout),
            ) as resp:
                raw_result = await resp.text()
        except TimeoutError as error:
            raise TelegramNetworkError(method=method, message="Request timeout error") from error
        except ClientError as error:
            raise TelegramNetworkError(method=method, message=f"{type(error).__name__}: {error}") from error
        response = self.check_response(bot, method, resp.status, raw_result)
        return cast(TelegramType, response.result)
