"""Kuaidi100 behind our carrier seam (R4.4-2, R4.4-3, R7.4-1), against a fake of its API on loopback.

The merchant ships in the console with Kuaidi100 and an express company's code -> we subscribe the
waybill (key, callback URL, salt) -> Kuaidi100's signed pushes move the parcel and the shopper is told
on Telegram; a forged push changes nothing (403); a repeated push adds nothing; a waybill that has had
no push for a while is queried (signed with key and customer); a restarted process carries on from the
database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from bot.channels.telegram.session import RecordingSession
from bot.http.app import create_app
from bot.runtime import Runtime
from commerce_core.api import SYSTEM_ACTOR, OperatorPolicy, OperatorRole
from commerce_core.clock import FakeClock
from commerce_core.orders.types import LineRequest
from tests.backoffice.conftest import PASSWORD, Browser
from tests.carriers.conftest import StartRuntime
from tests.carriers.fake_kuaidi100 import KEY, SALT, FakeKuaidi100, scan
from tests.commerce.factory import ADDRESS

SHOPPER_CHAT = "7001"
OWNER = "owner@acme.example"
WAYBILL = "SF1400123456789"
CALLBACK = "/carriers/kuaidi100/callback"
PICKED = scan("2026-12-04 09:00:00", "【杭州】顺丰速运 已收取快件", "浙江,杭州市", "1")
MOVING = scan("2026-12-04 18:30:00", "【上海】快件已到达 上海转运中心", "上海", "0")
SIGNED = scan("2026-12-05 10:05:00", "【上海】快件已签收，签收人：本人", "上海", "3")


@pytest_asyncio.fixture
async def runtime(start_runtime: StartRuntime) -> Runtime:
    runtime = await start_runtime()
    commerce = runtime.commerce
    commerce.operators.policy = OperatorPolicy(hash_time_cost=1, hash_memory_kib=256, hash_parallelism=1)
    await commerce.operators.create(
        OWNER,
        PASSWORD,
        OperatorRole.MERCHANT_OWNER,
        merchant_code="acme",
        display_name="acme",
        language="en",
        actor=SYSTEM_ACTOR,
    )
    return runtime


@pytest_asyncio.fixture
async def browser(runtime: Runtime) -> AsyncIterator[Browser]:
    async with TestClient(
        TestServer(create_app(runtime), host="127.0.0.1"), headers={"Accept-Language": "en"}
    ) as c:
        yield Browser(c)


async def paid_order(runtime: Runtime, key: str = "k100") -> str:
    commerce = runtime.commerce
    shopper = await commerce.customers.identify("telegram", SHOPPER_CHAT, language="zh-Hans")
    order = await commerce.orders.place(shopper.id, ADDRESS, key, items=[LineRequest("D1-RED-M", 1)])
    await commerce.payments.sandbox_pay((await commerce.payments.start(order.number)).payment_id)
    await runtime.relay_notifications()  # the payment confirmation: not what these tests look at
    return order.number


def told(session: RecordingSession, since: int) -> list[str]:
    return [
        str(c.params.get("text"))
        for c in session.calls[since:]
        if c.method == "sendMessage" and c.chat_id == SHOPPER_CHAT
    ]


async def ship_in_console(browser: Browser, number: str, **fields: str) -> tuple[int, str]:
    await browser.login(OWNER)
    await browser.get(f"/admin/merchant/orders/{number}")
    form = {"carrier": "kuaidi100", "tracking": WAYBILL, "company": "shunfeng", **fields}
    return await browser.post(f"/admin/merchant/orders/{number}/ship", form)


async def test_console_ship_subscribes_and_signed_pushes_move_the_parcel_and_tell_the_shopper(
    runtime: Runtime, browser: Browser, kuaidi100: FakeKuaidi100, session: RecordingSession
) -> None:
    """R4.4-2/3: subscribe with key, callback and salt; pushes apply once; the shopper is told."""
    number = await paid_order(runtime)
    status, page = await ship_in_console(browser, number, company="")
    assert status == 400 and "express company&#39;s code" in page  # Kuaidi100 needs the company
    status, page = await ship_in_console(browser, number)
    assert status == 200 and "Shipped." in page and WAYBILL in page
    [subscribed] = kuaidi100.subscriptions
    assert (
        subscribed["company"] == "shunfeng" and subscribed["number"] == WAYBILL and subscribed["key"] == KEY
    )
    assert subscribed["parameters"]["callbackurl"] == "https://shop.example" + CALLBACK
    assert subscribed["parameters"]["salt"] == SALT and subscribed["parameters"]["resultv2"] == "1"

    before = len(session.calls)
    response = await browser.client.post(CALLBACK, data=kuaidi100.push(WAYBILL, "0", [MOVING, PICKED]))
    assert response.status == 200 and (await response.json())["result"] is True
    parcel = await runtime.commerce.shipments.parcel(WAYBILL)
    assert parcel.status == "in_transit" and parcel.carrier_company == "shunfeng"
    assert [e.status for e in parcel.events] == ["picked_up", "in_transit"]
    assert "上海转运中心" in parcel.events[-1].description["zh-Hans"]
    await runtime.relay_notifications()
    assert any(WAYBILL in text or "上海" in text for text in told(session, before))

    # Kuaidi100 repeats a push when it is unsure we got it: nothing new, nobody told twice
    before = len(session.calls)
    response = await browser.client.post(CALLBACK, data=kuaidi100.push(WAYBILL, "0", [MOVING, PICKED]))
    assert response.status == 200
    await runtime.relay_notifications()
    assert len((await runtime.commerce.shipments.parcel(WAYBILL)).events) == 2 and told(session, before) == []

    response = await browser.client.post(
        CALLBACK, data=kuaidi100.push(WAYBILL, "3", [SIGNED, MOVING, PICKED])
    )
    assert response.status == 200
    assert (await runtime.commerce.shipments.parcel(WAYBILL)).status == "delivered"
    assert (await runtime.commerce.orders.get(number)).status == "delivered"  # returnable from now on


async def test_forged_or_malformed_pushes_are_refused_and_change_nothing(
    runtime: Runtime, browser: Browser, kuaidi100: FakeKuaidi100
) -> None:
    number = await paid_order(runtime)
    assert (await ship_in_console(browser, number))[0] == 200
    forged = kuaidi100.push(WAYBILL, "3", [SIGNED], salt="guessed-salt")
    response = await browser.client.post(CALLBACK, data=forged)
    assert response.status == 403 and (await response.json())["result"] is False
    unsigned = {"param": forged["param"]}
    assert (await browser.client.post(CALLBACK, data=unsigned)).status == 403
    tampered = kuaidi100.push(WAYBILL, "0", [MOVING])
    tampered["param"] = tampered["param"].replace("0", "3")
    assert (await browser.client.post(CALLBACK, data=tampered)).status == 403
    parcel = await runtime.commerce.shipments.parcel(WAYBILL)
    assert parcel.status == "created" and parcel.events == ()
    assert (await runtime.commerce.orders.get(number)).status == "shipped"
    assert (
        await browser.client.post(CALLBACK, data=b"\xff\xfe", headers={"Content-Type": "text/plain"})
    ).status == 403


async def test_a_waybill_with_no_push_is_queried_and_a_restarted_process_carries_on(
    runtime: Runtime, kuaidi100: FakeKuaidi100, clock: FakeClock, start_runtime: StartRuntime
) -> None:
    """The query fallback (signed with key and customer) for a waybill whose pushes stopped, and a
    second process (a restart) that knows the waybill's company from the database alone."""
    number = await paid_order(runtime)
    kuaidi100.refuse_subscriptions = True  # Kuaidi100 down at shipping time: the parcel still ships
    await runtime.commerce.shipments.ship(
        number, carrier="kuaidi100", tracking_number=WAYBILL, company="yuantong"
    )
    assert kuaidi100.subscriptions == [] and (await runtime.commerce.orders.get(number)).status == "shipped"
    kuaidi100.tracks[WAYBILL] = ("0", [MOVING, PICKED])
    await runtime.tick()
    assert kuaidi100.queries == []  # not quiet for long yet

    restarted = await start_runtime()  # another process on the same database
    clock.advance(hours=5)
    figures = await restarted.tick()
    assert kuaidi100.queries == [{"com": "yuantong", "num": WAYBILL, "resultv2": "1"}]
    assert figures["waybills_queried"] == 2
    assert (await restarted.commerce.shipments.parcel(WAYBILL)).status == "in_transit"
    await restarted.tick()
    assert len(kuaidi100.queries) == 1  # asked once per quiet spell, not every round
