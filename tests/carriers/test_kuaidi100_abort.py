"""Kuaidi100's "abort" push: it gave up tracking a waybill (R4.4-2, R4.4-3, R7.4-1).

The first abort is subscribed once more, half an hour later as Kuaidi100 asks, letting it work out the
express company too (``autoCom``); a repeated push of that abort counts once. An abort after that is a
tracking problem: the merchant's users and the staff queue are told once, in their languages, and
nothing loops. An abort that names a corrected company code is taken over (Kuaidi100 tracks that one
itself), and the query fallback asks with it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.channels.telegram.session import RecordingSession
from bot.http.app import create_app
from bot.runtime import Runtime
from commerce_core.api import SYSTEM_ACTOR, Actor, Commerce, OperatorRole, OperatorView
from commerce_core.clock import FakeClock
from tests.backoffice.conftest import PASSWORD
from tests.carriers.fake_kuaidi100 import FakeKuaidi100
from tests.carriers.test_kuaidi100 import CALLBACK, SHOPPER_CHAT, WAYBILL, paid_order, runtime  # noqa: F401

MERCHANT_CHAT, AGENT_CHAT = "8301", "8302"
NO_SCANS = "3天查询无记录"

Client = TestClient[web.Request, web.Application]


@pytest_asyncio.fixture
async def http(runtime: Runtime) -> AsyncIterator[Client]:  # noqa: F811
    async with TestClient(TestServer(create_app(runtime), host="127.0.0.1")) as client:
        yield client


async def _bound(
    commerce: Commerce, email: str, role: OperatorRole, language: str, chat: str
) -> OperatorView:
    operator = await commerce.operators.create(
        email,
        PASSWORD,
        role,
        merchant_code="acme" if role is OperatorRole.MERCHANT_STAFF else None,
        display_name=email,
        language=language,
        actor=SYSTEM_ACTOR,
    )
    code = await commerce.operators.issue_binding_code(operator.public_id, Actor(operator.public_id, None))
    await commerce.operators.redeem_binding_code("telegram", chat, code)
    return operator


async def test_an_abort_is_subscribed_again_once_then_raised_to_the_merchant_and_staff(
    runtime: Runtime,  # noqa: F811
    http: Client,
    kuaidi100: FakeKuaidi100,
    clock: FakeClock,
    session: RecordingSession,
) -> None:
    commerce = runtime.commerce
    await _bound(commerce, "staff@acme.example", OperatorRole.MERCHANT_STAFF, "en", MERCHANT_CHAT)
    await _bound(commerce, "agent@shop.example", OperatorRole.AGENT, "zh-Hant", AGENT_CHAT)
    number = await paid_order(runtime)
    await commerce.shipments.ship(number, carrier="kuaidi100", tracking_number=WAYBILL, company="shunfeng")
    assert len(kuaidi100.subscriptions) == 1
    before = len(session.calls)

    abort = kuaidi100.push(WAYBILL, "0", [], status="abort", message=NO_SCANS)
    for _ in range(2):  # Kuaidi100 repeats a push it is unsure we got: one stop all the same
        response = await http.post(CALLBACK, data=abort)
        assert response.status == 200 and (await response.json())["result"] is True
    assert (await runtime.tick())["waybills_resubscribed"] == 0  # Kuaidi100 refuses it for half an hour
    assert len(kuaidi100.subscriptions) == 1

    clock.advance(minutes=31)
    assert (await runtime.tick())["waybills_resubscribed"] == 1
    again = kuaidi100.subscriptions[1]
    assert again["number"] == WAYBILL and again["company"] == "shunfeng"
    assert again["parameters"]["autoCom"] == "1" and "autoCom" not in kuaidi100.subscriptions[0]["parameters"]
    clock.advance(minutes=31)
    await runtime.tick()
    assert len(kuaidi100.subscriptions) == 2  # once, not every round
    assert session.texts_to(MERCHANT_CHAT, before) == [] and session.texts_to(AGENT_CHAT, before) == []

    # it gives up again: people are told, once, and nothing is subscribed again
    for _ in range(2):
        assert (await http.post(CALLBACK, data=abort)).status == 200
    clock.advance(hours=1)
    await runtime.tick()
    await runtime.relay_notifications()
    assert len(kuaidi100.subscriptions) == 2
    [to_merchant] = session.texts_to(MERCHANT_CHAT, before)
    assert "Kuaidi100 has stopped tracking waybill" in to_merchant
    assert WAYBILL in to_merchant and number in to_merchant and "shunfeng" in to_merchant
    assert NO_SCANS in to_merchant
    [to_agent] = session.texts_to(AGENT_CHAT, before)
    assert "物流追蹤問題" in to_agent and WAYBILL in to_agent and "已通知商家" in to_agent
    assert not any("Kuaidi100" in t or "快递100" in t for t in session.texts_to(SHOPPER_CHAT, before))

    unknown = kuaidi100.push(WAYBILL, "0", [], status="abort", message=NO_SCANS)
    unknown["param"] = unknown["param"].replace(WAYBILL, "SF000")
    assert (await http.post(CALLBACK, data=unknown)).status == 403  # tampered: the signature fails


async def test_an_abort_with_a_corrected_company_takes_it_over(
    runtime: Runtime,  # noqa: F811
    http: Client,
    kuaidi100: FakeKuaidi100,
    clock: FakeClock,
) -> None:
    commerce = runtime.commerce
    number = await paid_order(runtime)
    await commerce.shipments.ship(number, carrier="kuaidi100", tracking_number=WAYBILL, company="shunfeng")
    abort = kuaidi100.push(WAYBILL, "0", [], status="abort", message=NO_SCANS, com_new="yuantong")
    assert (await http.post(CALLBACK, data=abort)).status == 200
    assert (await commerce.shipments.parcel(WAYBILL)).carrier_company == "yuantong"
    clock.advance(hours=5)
    figures = await runtime.tick()
    assert figures["waybills_resubscribed"] == 0 and len(kuaidi100.subscriptions) == 1  # it tracks it
    assert kuaidi100.queries == [{"com": "yuantong", "num": WAYBILL, "resultv2": "1"}]
