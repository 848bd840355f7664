"""A Bot API session that records calls and answers with canned results: no network.

Used by the tests, ``shopbot replay telegram`` and the benchmark. ``fail`` lets a test script Telegram's
errors (429 with retry_after, 403 blocked, 5xx) for chosen methods and chats.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot
from aiogram.client.default import Default
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramForbiddenError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Chat, InputFile, Message, Update, User

TEST_TOKEN = "42:TEST-shopbot-recording-session-token"  # noqa: S105 - a fake token in aiogram's format


@dataclass(frozen=True, slots=True)
class RecordedCall:
    method: str
    params: dict[str, Any]
    at: float

    @property
    def chat_id(self) -> str | None:
        value = self.params.get("chat_id")
        return None if value is None else str(value)

    def to_json(self) -> str:
        return json.dumps({"method": self.method, "params": self.params}, ensure_ascii=False, default=str)


Failure = Callable[[TelegramMethod[Any], dict[str, Any]], Exception | None]


def retry_after(seconds: int) -> Callable[[TelegramMethod[Any]], Exception]:
    return lambda method: TelegramRetryAfter(method=method, message="Too Many Requests", retry_after=seconds)


def blocked(method: TelegramMethod[Any]) -> Exception:
    return TelegramForbiddenError(method=method, message="Forbidden: bot was blocked by the user")


def server_error(method: TelegramMethod[Any]) -> Exception:
    return TelegramServerError(method=method, message="Internal Server Error")


class RecordingSession(BaseSession):
    """Records every Bot API call (method name and JSON parameters) and returns a plausible result."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        super().__init__()
        self.calls: list[RecordedCall] = []
        self.failed: list[RecordedCall] = []
        self._clock = clock or (lambda: 0.0)
        self._ids = itertools.count(1000)
        self.pending_updates: list[dict[str, Any]] = []  # what the next getUpdates returns
        self._failures: list[
            tuple[str | None, str | None, int, Callable[[TelegramMethod[Any]], Exception]]
        ] = []

    def fail(
        self,
        error: Callable[[TelegramMethod[Any]], Exception],
        *,
        method: str | None = None,
        chat_id: str | int | None = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` calls matching ``method``/``chat_id`` raise ``error(method)``."""
        self._failures.append((method, None if chat_id is None else str(chat_id), times, error))

    def _failure(self, name: str, chat: str | None) -> Callable[[TelegramMethod[Any]], Exception] | None:
        for index, (method, chat_id, times, error) in enumerate(self._failures):
            if (method is None or method == name) and (chat_id is None or chat_id == chat):
                if times <= 1:
                    del self._failures[index]
                else:
                    self._failures[index] = (method, chat_id, times - 1, error)
                return error
        return None

    def of(self, method: str) -> list[RecordedCall]:
        return [c for c in self.calls if c.method == method]

    def texts_to(self, chat: str, since: int = 0) -> list[str]:
        """The texts of the messages sent to ``chat``, from call number ``since`` on."""
        sent = self.calls[since:]
        return [str(c.params["text"]) for c in sent if c.method == "sendMessage" and c.chat_id == chat]

    async def close(self) -> None:
        return None

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109
    ) -> TelegramType:
        name = method.__api_method__
        params = _plain(method.model_dump(exclude_none=True))
        call = RecordedCall(name, params, self._clock())
        error = self._failure(name, call.chat_id)
        if error is not None:
            self.failed.append(call)
            raise error(method)
        self.calls.append(call)
        return self._result(bot, name, params)  # type: ignore[no-any-return]

    def _result(self, bot: Bot, name: str, params: dict[str, Any]) -> Any:
        if name.startswith("send") or name in (
            "editMessageText",
            "editMessageCaption",
            "editMessageReplyMarkup",
        ):
            chat_id = params.get("chat_id", 1)
            chat_type = "private" if not str(chat_id).startswith("-") else "group"
            message = Message(
                message_id=params.get("message_id") or next(self._ids),
                date=datetime.now(UTC),
                chat=Chat(id=int(chat_id), type=chat_type),
                text=params.get("text"),
            )
            return message.as_(bot)
        if name == "getMe":
            return User(id=42, is_bot=True, first_name="shopbot", username="shopbot_test_bot")
        if name == "getUpdates":
            updates = [Update.model_validate(u, context={"bot": bot}) for u in self.pending_updates]
            self.pending_updates = []
            return updates
        return True

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - aiogram signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        yield b""


def _plain(value: Any) -> Any:
    """JSON-ready parameters: aiogram's unset defaults dropped, files shown by name."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if not isinstance(v, Default) and v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, InputFile):
        return f"<file {value.filename}>"
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)
