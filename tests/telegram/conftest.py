"""Telegram fixtures: the real runtime behind a TelegramChannel whose Bot talks to a RecordingSession."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.channels.base import ChannelContext
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.session import TEST_TOKEN, RecordingSession
from bot.channels.telegram.settings import TelegramSettings
from bot.http.app import create_app
from bot.runtime import Runtime
from commerce_core.clock import FakeClock
from nlu import BuiltinInterpreter
from tests.commerce.factory import build_shop
from tests.runtime_support import make_runtime, sqlite_copy

SECRET = "test-webhook-secret_123"
FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "telegram"


class FakeTimer:
    """Virtual monotonic time: sleeping advances it (sequential senders see exact times)."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += max(0.0, seconds)
        await asyncio.sleep(0)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return sqlite_copy(request, tmp_path)


@pytest.fixture
def timer() -> FakeTimer:
    return FakeTimer()


@pytest.fixture
def session(timer: FakeTimer) -> RecordingSession:
    return RecordingSession(clock=timer.now)


def telegram_settings(**overrides: Any) -> TelegramSettings:
    values: dict[str, Any] = {
        "bot_token": TEST_TOKEN,
        "webhook_secret": SECRET,
        "payment_provider_token": "284685063:TEST:provider",
        "claim_idle_seconds": 0.0,
    }
    values.update(overrides)
    return TelegramSettings(**values)


@pytest_asyncio.fixture
async def runtime(
    db_url: str,
    tmp_path: Path,
    clock: FakeClock,
    interpreter: BuiltinInterpreter,
    session: RecordingSession,
    timer: FakeTimer,
) -> AsyncIterator[Runtime]:
    """The whole bot with the test shop, its Telegram channel wired by bootstrap (a recording bot)."""

    def telegram(context: ChannelContext) -> TelegramChannel:
        return TelegramChannel(context, telegram_settings(), session=session, timer=timer)

    rt = await make_runtime(db_url, tmp_path, clock, interpreter, channels={"telegram": telegram})
    await build_shop(rt.container.commerce)
    await rt.refresh_catalogue()
    try:
        yield rt
    finally:
        await rt.aclose()


@pytest.fixture
def channel(runtime: Runtime) -> TelegramChannel:
    found = runtime.channels["telegram"]
    assert isinstance(found, TelegramChannel)
    return found


@pytest_asyncio.fixture
async def client(runtime: Runtime) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    # the channel's update worker is not started: tests drain the inbox themselves, deterministically
    async with TestClient(TestServer(create_app(runtime), host="127.0.0.1")) as test_client:
        yield test_client


class Shopper:
    """Builds the updates a Telegram client would send for one private chat."""

    _ids = itertools.count(500_000)

    def __init__(self, user_id: int = 7001, lang: str = "zh-hans", name: str = "小明") -> None:
        self.user = {"id": user_id, "is_bot": False, "first_name": name, "language_code": lang}
        self.chat = {"id": user_id, "type": "private", "first_name": name}
        self._messages = itertools.count(1)

    def _update(self, **event: Any) -> dict[str, Any]:
        return {"update_id": next(self._ids), **event}

    def message(self, **content: Any) -> dict[str, Any]:
        message = {
            "message_id": next(self._messages),
            "date": 1_700_000_000,
            "chat": self.chat,
            "from": self.user,
        }
        return self._update(message={**message, **content})

    def text(self, text: str) -> dict[str, Any]:
        return self.message(text=text)

    def tap(self, callback_data: str, message_id: int = 1) -> dict[str, Any]:
        message = {"message_id": message_id, "date": 1_700_000_000, "chat": self.chat, "text": "…"}
        return self._update(
            callback_query={
                "id": f"cb{next(self._ids)}",
                "from": self.user,
                "message": message,
                "chat_instance": "ci-1",
                "data": callback_data,
            }
        )

    def pre_checkout(self, payload: str, amount: int, currency: str = "CNY") -> dict[str, Any]:
        return self._update(
            pre_checkout_query={
                "id": f"pcq{next(self._ids)}",
                "from": self.user,
                "currency": currency,
                "total_amount": amount,
                "invoice_payload": payload,
            }
        )

    def paid(self, payload: str, amount: int, charge: str, currency: str = "CNY") -> dict[str, Any]:
        return self.message(
            successful_payment={
                "currency": currency,
                "total_amount": amount,
                "invoice_payload": payload,
                "telegram_payment_charge_id": charge,
                "provider_payment_charge_id": f"prov-{charge}",
            }
        )


async def run_worker_until_empty(channel: TelegramChannel, *, seconds: float = 20.0) -> int:
    """Run the channel's update worker until its inbox is empty (or ``seconds`` pass), stop it, and
    return what is left in the inbox (0: every update answered and acknowledged)."""
    stop = asyncio.Event()
    worker = asyncio.create_task(channel.run_worker(stop))
    for _ in range(int(seconds / 0.01)):
        if await channel.inbox.backlog() == 0:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await worker
    return await channel.inbox.backlog()


def body(update: dict[str, Any]) -> bytes:
    return json.dumps(update, ensure_ascii=False).encode()


def fixture_updates() -> Iterator[tuple[str, dict[str, Any]]]:
    for number, path in enumerate(sorted(FIXTURES.rglob("*.json")), start=1):
        data = json.loads(path.read_text(encoding="utf-8"))
        if "update_id" not in data:
            data = {"update_id": 900_000 + number, "message": data}
        yield f"{path.parent.name}/{path.name}", data
