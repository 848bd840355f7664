"""A shopper on a new device, or who lost the web cookie, signs back in with a code sent to their
phone (R5.1-2), and the account's other channels hear of it (issue 11, finding 13's identity half).

Runs on SQLite and PostgreSQL (the root ``db_url`` fixture): the merge moves rows and emits the
announcement in one transaction.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.http.app import create_app
from bot.runtime import Runtime
from commerce_core.api import SmsLimits
from tests.security.test_web_identity import ADDRESS, chat, everything, place_order

Client = TestClient[web.Request, web.Application]
PHONE = "13900001111"
ANNOUNCED = "刚刚在另一个聊天渠道或设备上登录"


@pytest_asyncio.fixture
async def server(runtime: Runtime) -> AsyncIterator[TestServer]:
    # binding the phone and signing in elsewhere a moment later asks for two codes within a minute,
    # which the default per-phone limit (1 a minute) refuses; this test is about signing in
    verifier = runtime.pipeline.verifier
    assert verifier is not None
    verifier.limiter.limits = SmsLimits(per_phone=((5, 60), (10, 3600), (20, 86400)))
    async with TestServer(create_app(runtime), host="127.0.0.1") as test_server:
        yield test_server


def last_code(runtime: Runtime, phone: str) -> str:
    sent_to, text = runtime.sms.sent[-1]
    assert sent_to.endswith(phone)
    match = re.search(r"\d{6}", text)
    assert match is not None
    return match.group()


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r["text"] for r in replies)


async def test_a_new_device_signs_in_by_phone_code_and_the_old_one_is_told(
    server: TestServer, runtime: Runtime
) -> None:
    old_device: Client = TestClient(server)
    new_device: Client = TestClient(server)
    await old_device.start_server()
    await new_device.start_server()
    try:
        number, _payment = await place_order(old_device)
        assert "6位验证码" in texts(await chat(old_device, text="绑定手机"))
        assert "验证码已发送" in texts(await chat(old_device, text=PHONE))
        assert "已验证并绑定" in texts(await chat(old_device, text=last_code(runtime, PHONE)))

        # The cookie is gone (another browser): the orders are not there, until the phone proves it.
        assert number not in everything(await chat(new_device, text="我的订单"))
        asked = texts(await chat(new_device, text="登录"))
        assert "验证过的手机号" in asked
        assert "验证码已发送" in texts(await chat(new_device, text=PHONE))
        guess = "000000" if last_code(runtime, PHONE) != "000000" else "111111"
        wrong = texts(await chat(new_device, text=guess))
        assert "验证码" in wrong and number not in wrong
        joined = await chat(new_device, text=last_code(runtime, PHONE))
        assert "已合并" in texts(joined)
        assert ANNOUNCED not in texts(joined)  # the new device is not told about itself
        assert number in everything(await chat(new_device, text="我的订单"))
        exported = everything(await chat(new_device, payload="export"))
        assert PHONE in exported and "世纪大道" in exported and ADDRESS.split()[0] in exported

        # the account's other channel (the old browser) hears of the sign-in, once
        await runtime.relay_notifications()
        pushed = (await (await old_device.get("/api/inbox")).json())["replies"]
        assert [r["pushed"] and ANNOUNCED in r["text"] for r in pushed] == [True]
        assert (await (await old_device.get("/api/inbox")).json())["replies"] == []
        assert number in everything(await chat(old_device, text="我的订单"))
    finally:
        await old_device.close()
        await new_device.close()


async def test_a_code_for_someone_elses_phone_never_arrives_here(
    server: TestServer, runtime: Runtime
) -> None:
    """Signing in takes the code sent to the phone: guessing one does not join the account."""
    owner: Client = TestClient(server)
    stranger: Client = TestClient(server)
    await owner.start_server()
    await stranger.start_server()
    try:
        number, _payment = await place_order(owner)
        await chat(owner, text="绑定手机")
        await chat(owner, text=PHONE)
        await chat(owner, text=last_code(runtime, PHONE))
        await chat(stranger, text="登录")
        await chat(stranger, text=PHONE)
        real = last_code(runtime, PHONE)
        for guess in ("123456", "654321", "111111", "222222", "333333", "444444"):
            if guess != real:
                await chat(stranger, text=guess)
        assert number not in everything(await chat(stranger, text=real))  # too many tries: code void
        assert number not in everything(await chat(stranger, text="我的订单"))
    finally:
        await owner.close()
        await stranger.close()


async def test_the_code_guard_hook_can_refuse_a_phone_before_any_code_is_sent(runtime: Runtime) -> None:
    """The hook the rate limiter plugs into: refused, nothing is sent and no code waits."""
    from bot.infra.redis import as_async_store
    from commerce_core.api import NotAllowed, NotFound, PhoneVerifier, SandboxSms

    class Refuse:
        async def before_sending(self, phone: str) -> None:
            raise NotAllowed("too many codes for this phone", code="rate_limited")

        async def before_checking(self, phone: str) -> None:
            raise NotAllowed("too many guesses for this phone", code="rate_limited")

    commerce = runtime.pipeline.commerce
    sms = SandboxSms()
    verifier = PhoneVerifier(
        as_async_store(runtime.pipeline.redis), sms, commerce.customers, secret="s", guard=Refuse()
    )
    customer = await commerce.customers.identify("web", "w-guarded")
    with pytest.raises(NotAllowed):
        await verifier.start(customer.id, PHONE, "{code}")
    assert sms.sent == []
    with pytest.raises(NotFound):
        await verifier.confirm(customer.id, "123456")
