"""The dead-letter page: staff who handle conversations see failed shopper messages and retry them; the
retried turn's answer reaches the shopper; merchants cannot see them."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from bot.backoffice.views.dead_letters import RECOVERY
from bot.infra.redis import make_redis
from bot.turns import DeadLetters, TurnRecovery
from commerce_core.api import Commerce
from dialogs.messages import InboundMessage, Reply, TextReply
from tests.backoffice.conftest import Browser, People, backoffice_app
from tests.conftest import REDIS_URL

Pushed = list[tuple[str, list[Reply], str]]


class Shopper:
    """Where a retried turn's replies go (a channel's sender), and the turn the pipeline would run."""

    def __init__(self) -> None:
        self.pushed: Pushed = []
        self.handled: list[InboundMessage] = []

    async def push(self, user_id: str, replies: list[Reply], dedup_key: str) -> None:
        self.pushed.append((user_id, replies, dedup_key))

    async def handle(self, message: InboundMessage) -> list[Reply]:
        self.handled.append(message)
        return [TextReply(f"Your order for {message.text} is placed")]


@pytest_asyncio.fixture
async def staff(commerce: Commerce, people: People, tmp_path: Path) -> AsyncIterator[tuple[Browser, Shopper]]:
    redis = make_redis(REDIS_URL)
    shopper = Shopper()
    app = backoffice_app(commerce, tmp_path)
    app[RECOVERY] = lambda: TurnRecovery(shopper.handle, redis, lambda channel: shopper)
    async with TestClient(TestServer(app, host="127.0.0.1"), headers={"Accept-Language": "en"}) as client:
        yield Browser(client), shopper
    await redis.aclose()


async def test_an_agent_sees_a_dead_letter_and_retrying_it_answers_the_shopper(
    staff: tuple[Browser, Shopper], commerce: Commerce
) -> None:
    browser, shopper = staff
    words = f"red dress {secrets.token_hex(3)}"
    message = InboundMessage("telegram", "777", "777", words, dedup_key="9001")
    letters = DeadLetters(make_redis(REDIS_URL))
    letter_id = await letters.add(message, "OperationalError: server closed the connection", 3)
    await browser.login("agent@example.com")
    status, page = await browser.get("/admin/dead-letters")
    assert status == 200 and words in page and "server closed the connection" in page
    status, page = await browser.post(f"/admin/dead-letters/{letter_id}/retry")
    assert status == 200 and "the answer was sent to the shopper" in page
    assert [m.text for m in shopper.handled] == [words]
    assert shopper.handled[0].dedup_key == f"retry:{letter_id}"
    assert shopper.pushed == [("777", [TextReply(f"Your order for {words} is placed")], f"retry:{letter_id}")]
    assert await letters.get(letter_id) is None and words not in (await browser.get("/admin/dead-letters"))[1]
    status, page = await browser.post(f"/admin/dead-letters/{letter_id}/retry")  # a second click
    assert "already retried" in page and len(shopper.pushed) == 1
    status, _ = await browser.post("/admin/dead-letters/not-an-id/retry")
    assert status == 404


async def test_a_merchant_cannot_see_or_retry_dead_letters(staff: tuple[Browser, Shopper]) -> None:
    browser, shopper = staff
    letters = DeadLetters(make_redis(REDIS_URL))
    letter_id = await letters.add(InboundMessage("web", "w1", "w1", "hello", dedup_key="m1"), "boom", 3)
    await browser.login("owner@acme.example")
    assert (await browser.get("/admin/dead-letters"))[0] == 403
    assert (await browser.post(f"/admin/dead-letters/{letter_id}/retry"))[0] == 403
    assert shopper.handled == [] and await letters.get(letter_id) is not None
    await letters.redis.hdel("shopbot:turns:dead", letter_id)  # type: ignore[misc]
