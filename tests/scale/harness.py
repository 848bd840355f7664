"""What the scale tests (issue 16) share: a seeded throw-away database on the test PostgreSQL, the
language model for ``shopbot serve`` subprocesses, their environment, and a Bot API fake that also
keeps the buttons the bot sent (so a test presses them as a Telegram user would).

Processes come from :mod:`tests.processes` (``shopbot serve``, a private ``redis-server``) and
:mod:`tests.scale.cluster` (a 3-node Redis Cluster); the platforms from
:mod:`tests.reliability.platforms`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from commerce_core.api import migrate_database
from commerce_core.app import Commerce, CommerceConfig
from commerce_core.db.engine import create_engine
from nlu.training import load_or_train
from tests.commerce.factory import build_shop
from tests.conftest import POSTGRES_ADMIN_URL, missing_service
from tests.fake_bot_api import bot_api_params
from tests.reliability.platforms import BOT_TOKEN, WEBHOOK_SECRET, FakePlatforms
from tests.reliability.test_faults import MODEL_CACHE

ADDRESS = "张三 13812345678 上海市浦东新区世纪大道100号"
KEY = Fernet.generate_key().decode()
INDEX_KEY = "scale-index-key-0123456789abcdef"
SANDBOX_SECRET = "scale-sandbox-secret-0123456789"
SKU = "D1-RED-L"
AGENT = "agent@shop.example"
#: an order's public number (commerce_core.ids: "SB" and ten base32 characters)
ORDER_NUMBER = re.compile(r"SB[0-9A-Z]{10}")
#: how long a test waits for something a person would wait for (generous: a loaded 2-core machine)
WAIT = 120.0


def order_number(texts: list[str]) -> str:
    """The order number the shopper was told in ``texts``."""
    found = [m.group(0) for text in texts if (m := ORDER_NUMBER.search(text))]
    assert found, f"no order number in {texts}"
    return found[0]


def commerce_for(db_url: str) -> Commerce:
    """The core on the servers' database, for what an agent does in the console (claim, reply)."""
    return Commerce.build(create_engine(db_url), CommerceConfig([KEY], INDEX_KEY, SANDBOX_SECRET))


@contextlib.contextmanager
def shop_database() -> Iterator[str]:
    """A throw-away database on the test PostgreSQL, migrated and seeded with the test shop."""
    name = f"shopbot_scale_{uuid.uuid4().hex[:8]}"
    admin = POSTGRES_ADMIN_URL

    async def run(statement: str) -> None:
        engine = create_async_engine(admin, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(text(statement))
        finally:
            await engine.dispose()

    try:
        asyncio.run(run(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001
        missing_service("PostgreSQL", exc)
    url = admin.rsplit("/", 1)[0] + "/" + name
    try:
        asyncio.run(_seed(url))
        yield url
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _seed(db_url: str) -> None:
    await migrate_database(db_url)
    commerce = commerce_for(db_url)
    try:
        await build_shop(commerce, stock=50)
    finally:
        await commerce.close()


def data_dir(directory: Path) -> Path:
    """A data dir with the language model already in it (a server without one trains one first)."""
    model = load_or_train(MODEL_CACHE).path
    target = directory / "data"
    (target / "nlu").mkdir(parents=True, exist_ok=True)
    shutil.copy(model, target / "nlu" / model.name)
    return target


def server_env(data: Path, redis_url: str, db_url: str, fakes: FakePlatforms) -> dict[str, str]:
    return {
        "SHOPBOT_DATABASE_URL": db_url,
        "SHOPBOT_REDIS_URL": redis_url,
        "SHOPBOT_DATA_DIR": str(data),
        "SHOPBOT_ENCRYPTION_KEYS": KEY,
        "SHOPBOT_BLIND_INDEX_KEY": INDEX_KEY,
        "SHOPBOT_SANDBOX_PAYMENT_SECRET": SANDBOX_SECRET,
        "SHOPBOT_DB_POOL_SIZE": "3",
        "SHOPBOT_RATE_WEB_PER_IP": "0",
        "SHOPBOT_RATE_WEB_PER_SESSION": "0",
        "SHOPBOT_RATE_CHAT_USER_PER_MINUTE": "0",
        "SHOPBOT_TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "SHOPBOT_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "SHOPBOT_TELEGRAM_API_BASE": fakes.base_url,
        "SHOPBOT_TELEGRAM_CLAIM_IDLE_SECONDS": "5",
        "SHOPBOT_TELEGRAM_PER_CHAT_RATE": "100",
        "SHOPBOT_TELEGRAM_PER_CHAT_BURST": "100",
        "SHOPBOT_TELEGRAM_GLOBAL_RATE": "1000",
    }


class ButtonPlatforms(FakePlatforms):
    """The Bot API fake of the fault tests, also keeping every message's buttons per chat."""

    def __init__(self) -> None:
        super().__init__()
        self.buttons: dict[str, list[dict[str, Any]]] = {}

    async def _bot_api(self, request: web.Request) -> web.Response:
        form = await bot_api_params(request)
        markup = form.get("reply_markup")
        if isinstance(markup, str) and markup:
            rows = json.loads(markup).get("inline_keyboard", [])
            with self._lock:
                found = self.buttons.setdefault(str(form.get("chat_id", "")), [])
                found.extend(button for row in rows for button in row)
        return await super()._bot_api(request)

    def texts(self, chat: int) -> list[str]:
        with self._lock:
            return list(self.telegram.get(str(chat), []))

    def button(self, chat: int, *, data_prefix: str = "", url_part: str = "") -> dict[str, Any]:
        """The latest button of ``chat`` whose callback data or URL matches."""
        with self._lock:
            found = self.buttons.get(str(chat), [])
            for button in reversed(found):
                if data_prefix and str(button.get("callback_data", "")).startswith(data_prefix):
                    return dict(button)
                if url_part and url_part in str(button.get("url", "")):
                    return dict(button)
        raise AssertionError(f"no button {data_prefix or url_part!r} in chat {chat}: {found}")


class TelegramUser:
    """One Telegram user: updates POSTed to a webhook (any server's) until a 2xx, as Telegram does.

    ``settled``, when given, says whether the servers have finished everything sent so far (see
    :meth:`wait_for_more`): a test that can ask them need not wait for a quiet spell after each turn."""

    update_ids = iter(range(int(time.time()) % 100_000 * 10_000, 10**12))

    def __init__(
        self, fakes: ButtonPlatforms, chat: int, settled: Callable[[], Awaitable[bool]] | None = None
    ) -> None:
        self.fakes, self.chat, self.settled = fakes, chat, settled
        self.last: dict[str, Any] = {}

    async def send(self, http: httpx.AsyncClient, base_url: str, event: dict[str, Any]) -> None:
        self.last = {"update_id": next(self.update_ids), **event}
        await self._post(http, base_url, self.last)

    async def redeliver(self, http: httpx.AsyncClient, base_url: str) -> None:
        """The last update again, same update_id (Telegram retries when it saw no 200 in time)."""
        await self._post(http, base_url, self.last)

    async def _post(self, http: httpx.AsyncClient, base_url: str, body: dict[str, Any]) -> None:
        update_id = body["update_id"]
        headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                response = await http.post(f"{base_url}/telegram/webhook", json=body, headers=headers)
                if 200 <= response.status_code < 300:
                    return
            await asyncio.sleep(0.5)
        raise AssertionError(f"the webhook at {base_url} never took update {update_id}")

    def _who(self) -> dict[str, Any]:
        return {"id": self.chat, "is_bot": False, "first_name": "Scale", "language_code": "en"}

    async def say(self, http: httpx.AsyncClient, base_url: str, words: str) -> list[str]:
        """Send ``words``; the texts the bot sent back (waiting until they stop coming)."""
        event = {
            "message": {
                "message_id": next(self.update_ids),
                "date": int(time.time()),
                "chat": {"id": self.chat, "type": "private"},
                "from": self._who(),
                "text": words,
            }
        }
        return await self._and_wait(http, base_url, event)

    async def press(self, http: httpx.AsyncClient, base_url: str, callback_data: str) -> list[str]:
        event = {
            "callback_query": {
                "id": str(next(self.update_ids)),
                "from": self._who(),
                "chat_instance": "scale",
                "data": callback_data,
                "message": {
                    "message_id": 1,
                    "date": int(time.time()),
                    "chat": {"id": self.chat, "type": "private"},
                    "text": "…",
                },
            }
        }
        return await self._and_wait(http, base_url, event)

    async def _and_wait(self, http: httpx.AsyncClient, base_url: str, event: dict[str, Any]) -> list[str]:
        before = len(self.fakes.texts(self.chat))
        await self.send(http, base_url, event)
        return await self.wait_for_more(before)

    async def wait_for_more(self, before: int, *, quiet: float = 0.6) -> list[str]:
        """The texts after the first ``before``, once at least one came and then either none followed for
        ``quiet`` s or the servers say they are done (``settled``: nothing more is coming)."""
        deadline = time.monotonic() + WAIT
        seen, changed_at = before, time.monotonic()
        while time.monotonic() < deadline:
            now = len(self.fakes.texts(self.chat))
            if now != seen:
                seen, changed_at = now, time.monotonic()
            elif now > before and (
                time.monotonic() - changed_at >= quiet or (self.settled is not None and await self.settled())
            ):
                break
            await asyncio.sleep(0.05)
        return self.fakes.texts(self.chat)[before:]
