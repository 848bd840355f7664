"""The channel seam: a channel nobody's code knows, registered through bootstrap alone.

The fake channel lives in this file and is handed to ``bootstrap`` as an extra channel factory; no
shared file names it. It gets a shopper's words over its own HTTP route, runs them through the real
pipeline and renders the replies its own way; and when the shopper pays, the outbox's "payment
confirmed" reaches that shopper through the fake channel's sender.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.channels.base import Channel, ChannelContext, Job
from bot.http.app import create_app
from bot.runtime import Runtime
from commerce_core.api import PaymentProvider
from commerce_core.clock import FakeClock
from dialogs.messages import InboundMessage, PaymentRequest, Reply
from nlu import BuiltinInterpreter
from tests.commerce.factory import build_shop
from tests.runtime_support import make_runtime, sqlite_copy


def render(reply: Reply) -> str:
    """The fake platform's rendering: one line per reply, buttons in brackets."""
    buttons = "".join(f" [{b.label}]" for b in getattr(reply, "buttons", ()))
    return f"{reply.kind}: {reply.text}{buttons}"


class FakeSender:
    def __init__(self) -> None:
        self.pushed: list[tuple[str, list[str], str]] = []

    async def push(self, user_id: str, replies: list[Reply], dedup_key: str) -> None:
        self.pushed.append((user_id, [render(r) for r in replies], dedup_key))


class FakeChannel:
    """A messaging platform of our own invention: ``POST /fake/{user}`` with the shopper's words."""

    name = "fake"
    settings = None
    payment_providers: Sequence[PaymentProvider] = ()
    payment_provider = None

    def __init__(self, context: ChannelContext) -> None:
        self.context = context
        self.sender = FakeSender()
        self.payments: list[str] = []  # payment ids of the payment requests shown to shoppers
        self.closed = False

    def install_routes(self, app: web.Application) -> None:
        app.router.add_post("/fake/{user}", self.receive)

    def jobs(self) -> Sequence[Job]:
        return ()

    async def aclose(self) -> None:
        self.closed = True

    async def receive(self, request: web.Request) -> web.Response:
        user = request.match_info["user"]
        text = (await request.json())["text"]
        message = InboundMessage(self.name, user, user, text, dedup_key=request.headers.get("X-Id"))
        replies = await self.context.runtime.pipeline.handle(message)
        self.payments += [r.payment_id for r in replies if isinstance(r, PaymentRequest)]
        return web.json_response({"lines": [render(r) for r in replies]})


def fake_channel(context: ChannelContext) -> Channel:
    return FakeChannel(context)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return sqlite_copy(request, tmp_path)


@pytest_asyncio.fixture
async def runtime(
    db_url: str, tmp_path: Path, clock: FakeClock, interpreter: BuiltinInterpreter
) -> AsyncIterator[Runtime]:
    rt = await make_runtime(db_url, tmp_path, clock, interpreter, channels={"fake": fake_channel})
    await build_shop(rt.container.commerce)
    await rt.refresh_catalogue()
    try:
        yield rt
    finally:
        await rt.aclose()


async def test_a_shopper_turn_and_a_pushed_notification_go_through_a_channel_bootstrap_was_given(
    runtime: Runtime,
) -> None:
    fake = runtime.channels["fake"]
    assert isinstance(fake, FakeChannel)
    async with TestClient(TestServer(create_app(runtime), host="127.0.0.1")) as client:

        async def say(text: str) -> str:
            response = await client.post("/fake/shopper-7", json={"text": text})
            assert response.status == 200
            return "\n".join((await response.json())["lines"])

        # a turn: inbound on the fake's own route -> the pipeline -> replies rendered by the fake
        listing = await say("有没有红色连衣裙")
        assert listing.startswith("product_list: ") and "红色碎花连衣裙" in listing
        await say("第一个")
        await say("加入购物车")
        assert "已把 1 件" in await say("L")
        assert "姓名、手机号、地址" in await say("结算")
        assert "应付：¥199.00" in await say("张三 13812345678 上海市浦东新区世纪大道100号")
        confirmed = await say("确认")
        assert "order: " in confirmed and "payment: " in confirmed
    [payment_id] = fake.payments
    assert fake.sender.pushed == []

    # a push: the shopper pays (sandbox), the outbox is relayed, the fake's sender is told
    commerce = runtime.container.commerce
    await commerce.payments.sandbox_pay(payment_id)
    assert await runtime.relay_notifications() >= 1
    [(user, lines, dedup_key)] = fake.sender.pushed
    customer = await commerce.customers.identify("fake", "shopper-7")
    [order] = await commerce.orders.for_customer(customer.id)
    assert user == "shopper-7" and dedup_key.startswith("outbox:")
    assert "已收到订单" in lines[0] and order.number in lines[0]


async def test_the_fake_channel_is_closed_with_the_runtime(
    db_url: str, tmp_path: Path, clock: FakeClock, interpreter: BuiltinInterpreter
) -> None:
    rt = await make_runtime(db_url, tmp_path, clock, interpreter, channels={"fake": fake_channel})
    fake = rt.channels["fake"]
    assert isinstance(fake, FakeChannel) and set(rt.channels) == {"console", "web", "fake"}
    await rt.aclose()
    assert fake.closed
