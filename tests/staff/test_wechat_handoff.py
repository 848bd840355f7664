"""A WeChat shopper handed to a person (R5.4-1, R4.4-2): the agent's reply leaves as a customer-service
message; the image the shopper sent is kept and shown to staff only; 48 hours after the shopper's last
message the console says WeChat's window is closed, refuses a plain reply and sends a template message
when the agent asks for one (WeChat is a fake behind httpx's MockTransport)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient

from commerce_core.api import SYSTEM_ACTOR, OperatorPolicy, OperatorRole, TicketStatus
from commerce_core.clock import FakeClock
from nlu import BuiltinInterpreter
from tests.backoffice.conftest import PASSWORD, Browser
from tests.commerce.factory import build_shop
from tests.runtime_support import make_runtime, sqlite_copy
from tests.wechat.conftest import (
    ACCOUNT,
    FakeWeChat,
    WeChatWorld,
    fake_wechat_channel,
    open_world,
    wechat_settings,
)

TEMPLATE = "TPL-handoff-reply"
#: a tiny real JPEG (the file store checks the bytes)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
PIC_URL = "http://mmbiz.qpic.cn/mmbiz_jpg/handoff-photo/0"
OPENID = "oHandoffShopper01"


class WeChatWithImages(FakeWeChat):
    """The fake WeChat, also serving the shopper's image from its CDN."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host.endswith(".qpic.cn"):
            return httpx.Response(200, content=JPEG, headers={"Content-Type": "image/jpeg"})
        return super().__call__(request)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return sqlite_copy(request, tmp_path)


@pytest_asyncio.fixture
async def world(
    db_url: str, tmp_path: Path, clock: FakeClock, interpreter: BuiltinInterpreter
) -> AsyncIterator[WeChatWorld]:
    fake = WeChatWithImages()
    channels = {"wechat": fake_wechat_channel(fake, wechat_settings(notice_template_id=TEMPLATE))}
    runtime = await make_runtime(db_url, tmp_path, clock, interpreter, channels=channels)
    runtime.container.settings.wechat.notice_template_id = TEMPLATE  # what the console reads
    commerce = runtime.commerce
    commerce.operators.policy = OperatorPolicy(hash_time_cost=1, hash_memory_kib=256, hash_parallelism=1)
    await commerce.operators.create("agent@example.com", PASSWORD, OperatorRole.AGENT, actor=SYSTEM_ACTOR)
    await build_shop(commerce)
    await runtime.refresh_catalogue()
    world, client = await open_world(runtime, clock, fake)
    try:
        yield world
    finally:
        await client.close()
        await runtime.aclose()


def image_xml(world: WeChatWorld, user: str) -> str:
    official = world.official
    official.created += 1
    official.msg_ids += 1
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
        f"<CreateTime>{official.created}</CreateTime><MsgType><![CDATA[image]]></MsgType>"
        f"<PicUrl><![CDATA[{PIC_URL}]]></PicUrl><MediaId><![CDATA[media-1]]></MediaId>"
        f"<MsgId>{official.msg_ids}</MsgId></xml>"
    )


async def test_wechat_reply_photo_and_the_48_hour_window(world: WeChatWorld) -> None:
    runtime, fake, commerce = world.runtime, world.fake, world.runtime.commerce
    await world.official.say(OPENID, "人工客服")
    await world.channel.drain()
    ticket = await commerce.support.active_for(f"wechat:{OPENID}")
    assert ticket is not None and ticket.status == TicketStatus.QUEUED

    # the shopper's photo is kept in the file store and appears in the conversation for staff
    status, _ = await world.official.post_xml(image_xml(world, OPENID))
    await world.channel.drain()
    assert status == 200
    [photo_line] = [m for m in await commerce.support.history(ticket.number) if m.file_key]

    client: TestClient = world.client  # type: ignore[type-arg]
    anonymous = await client.get(
        f"/admin/agent/c/{ticket.number}/photo/{photo_line.seq}", allow_redirects=False
    )
    assert anonymous.status in (302, 303, 401, 403)  # only signed-in staff see shoppers' photos
    agent = Browser(client)
    await agent.login("agent@example.com")
    _, page = await agent.get(f"/admin/agent/c/{ticket.number}")
    photo_url = f"/admin/agent/c/{ticket.number}/photo/{photo_line.seq}"
    assert photo_url in page
    served = await client.get(photo_url)
    assert served.status == 200 and served.content_type == "image/jpeg" and await served.read() == JPEG
    assert (await client.get(f"/admin/agent/c/{ticket.number}/photo/99999")).status == 404

    # within the window, the agent's reply is a customer-service message
    await agent.post(f"/admin/agent/c/{ticket.number}/claim")
    await agent.post(f"/admin/agent/c/{ticket.number}/reply", {"text": "您好，我看到照片了。"})
    await runtime.relay_notifications()
    texts = [m["text"]["content"] for m in fake.sent() if m["touser"] == OPENID and m["msgtype"] == "text"]
    assert any("您好，我看到照片了。" in text for text in texts)
    assert fake.sent("/cgi-bin/message/template/send") == []

    # two days later: the console says the window is closed and offers a template message
    world.clock.advance(hours=49)
    await agent.login("agent@example.com")  # the console session itself timed out meanwhile
    _, page = await agent.get(f"/admin/agent/c/{ticket.number}")
    assert 'id="wechat-window"' in page and "48 hours" in page and 'name="template"' in page
    _, page = await agent.post(f"/admin/agent/c/{ticket.number}/reply", {"text": "还需要帮忙吗？"})
    assert "Not sent: outside WeChat" in page
    assert [m.text for m in await commerce.support.history(ticket.number)].count("还需要帮忙吗？") == 0

    _, page = await agent.post(
        f"/admin/agent/c/{ticket.number}/reply", {"text": "还需要帮忙吗？", "template": "1"}
    )
    assert "template message" in page
    await runtime.relay_notifications()
    [template] = fake.sent("/cgi-bin/message/template/send")
    assert template["touser"] == OPENID and template["template_id"] == TEMPLATE
    assert "还需要帮忙吗？" in json.dumps(template, ensure_ascii=False)
    actions = [action for _, action, _ in await commerce.support.audit_trail("ticket", ticket.number)]
    assert "ticket_template_sent" in actions
