"""Fixtures for the carrier tests: a fake Kuaidi100 on loopback, and the whole bot configured to use
it (a recording Telegram bot tells the shopper, as in tests/merchants), on a database that a second
runtime can open as a restarted process would."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest_asyncio

from bot.carriers.settings import Kuaidi100Settings
from bot.channels.base import ChannelContext
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.session import RecordingSession
from bot.runtime import Runtime
from commerce_core.clock import FakeClock
from nlu import BuiltinInterpreter
from tests.carriers.fake_kuaidi100 import CUSTOMER, KEY, SALT, FakeKuaidi100
from tests.commerce.factory import build_shop
from tests.runtime_support import make_runtime
from tests.telegram.conftest import FakeTimer, db_url, session, telegram_settings, timer  # noqa: F401

StartRuntime = Callable[[], Awaitable[Runtime]]


@pytest_asyncio.fixture
async def kuaidi100() -> AsyncIterator[FakeKuaidi100]:
    fake = FakeKuaidi100()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


@pytest_asyncio.fixture
async def start_runtime(
    db_url: str,  # noqa: F811
    tmp_path: Path,
    clock: FakeClock,
    interpreter: BuiltinInterpreter,
    session: RecordingSession,  # noqa: F811
    timer: FakeTimer,  # noqa: F811
    kuaidi100: FakeKuaidi100,
) -> AsyncIterator[StartRuntime]:
    """Starts a runtime on the test's database (call again for a "restarted" process)."""
    assert kuaidi100.server is not None
    api = str(kuaidi100.server.make_url("")).rstrip("/")
    settings = Kuaidi100Settings(
        key=KEY, customer=CUSTOMER, salt=SALT, api_base_url=api, callback_base_url="https://shop.example"
    )
    started: list[Runtime] = []

    def telegram(context: ChannelContext) -> TelegramChannel:
        return TelegramChannel(context, telegram_settings(), session=session, timer=timer)

    async def start() -> Runtime:
        runtime = await make_runtime(
            db_url, tmp_path, clock, interpreter, channels={"telegram": telegram}, kuaidi100=settings
        )
        if not started:
            await build_shop(runtime.commerce)
        started.append(runtime)
        return runtime

    try:
        yield start
    finally:
        for runtime in started:
            await runtime.aclose()
