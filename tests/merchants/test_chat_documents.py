"""Documents an applicant sends in the chat are downloaded into the file store and attached to the
application, so the reviewer opens the real scan (R4.2-1): a Telegram document and photo through a
fake Bot API on loopback (getFile, then its file server), a WeChat image through a fake WeChat API on
loopback (``media/get`` with the access token). A file that is not a scan is refused and asked again;
a platform that cannot be reached leaves the chat handle (the reviewer sees "sent in chat").
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.channels.base import ChannelContext
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.wechat.channel import WeChatChannel
from bot.http.app import create_app
from bot.runtime import Runtime
from bot.uploads import upload_store
from commerce_core.api import SYSTEM_ACTOR, FileRef
from commerce_core.clock import FakeClock
from dialogs.messages import Attachment, InboundMessage, TextReply
from nlu import BuiltinInterpreter
from tests.commerce.factory import build_shop
from tests.fake_bot_api import bot_api_params
from tests.merchants.onboarding_support import PDF
from tests.runtime_support import make_runtime
from tests.telegram.conftest import SECRET, FakeTimer, Shopper, body, telegram_settings
from tests.wechat.conftest import ACCOUNT, Official, wechat_settings

CHAT = 7301
OPENID = "oApplicant_1"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 64 + b"\xff\xd9"
ANSWERS = ["莲花茶业有限公司", "李华", "王芳", "13800138000", "tea@example.com", "1", "否"]


class FakePlatforms:
    """Telegram's Bot API and file server, and WeChat's API, as one aiohttp app on loopback."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}  # Telegram file_path / WeChat media id -> bytes
        self.calls: list[str] = []
        self.sent: list[str] = []  # the texts the bot sent on Telegram

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self.bot_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self.file_server)
        app.router.add_get("/cgi-bin/token", self.wechat_token)
        app.router.add_get("/cgi-bin/media/get", self.wechat_media)
        app.router.add_post("/cgi-bin/{path:.+}", self.wechat_ok)
        return app

    async def bot_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await bot_api_params(request)
        self.calls.append(method)
        result: Any = True
        if method == "getFile":
            file_id = str(params["file_id"])
            path = f"documents/{file_id}"
            result = {"file_id": file_id, "file_unique_id": "u" + file_id, "file_path": path}
        elif method in ("sendMessage", "editMessageText"):
            self.sent.append(str(params.get("text", "")))
            chat = {"id": int(str(params.get("chat_id", CHAT))), "type": "private"}
            result = {"message_id": len(self.calls), "date": 1_700_000_000, "chat": chat, "text": "ok"}
        elif method == "getMe":
            result = {"id": 1, "is_bot": True, "first_name": "shop"}
        return web.json_response({"ok": True, "result": result})

    async def file_server(self, request: web.Request) -> web.Response:
        self.calls.append("file")
        data = self.files.get(request.match_info["path"].removeprefix("documents/"))
        return web.Response(body=data) if data is not None else web.Response(status=404)

    async def wechat_token(self, request: web.Request) -> web.Response:
        return web.json_response({"access_token": "WXTOKEN", "expires_in": 7200})

    async def wechat_media(self, request: web.Request) -> web.Response:
        self.calls.append("media/get")
        if request.query.get("access_token") != "WXTOKEN":
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        data = self.files.get(request.query.get("media_id", ""))
        if data is None:
            return web.json_response({"errcode": 40007, "errmsg": "invalid media_id"})
        return web.Response(body=data, content_type="image/jpeg")

    async def wechat_ok(self, request: web.Request) -> web.Response:
        return web.json_response({"errcode": 0, "errmsg": "ok"})


@pytest_asyncio.fixture
async def platforms() -> AsyncIterator[tuple[FakePlatforms, str]]:
    fake = FakePlatforms()
    server = TestServer(fake.app(), host="127.0.0.1", port=0)
    await server.start_server()
    try:
        yield fake, str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


@pytest_asyncio.fixture
async def runtime(
    db_url: str,
    tmp_path: Path,
    clock: FakeClock,
    interpreter: BuiltinInterpreter,
    platforms: tuple[FakePlatforms, str],
) -> AsyncIterator[Runtime]:
    _, base = platforms

    def telegram(context: ChannelContext) -> TelegramChannel:
        return TelegramChannel(context, telegram_settings(api_base=base), timer=FakeTimer())

    def wechat(context: ChannelContext) -> WeChatChannel:
        return WeChatChannel(context, wechat_settings(api_base=base))

    rt = await make_runtime(
        db_url, tmp_path, clock, interpreter, channels={"telegram": telegram, "wechat": wechat}
    )
    await build_shop(rt.commerce)
    try:
        yield rt
    finally:
        await rt.aclose()


@pytest_asyncio.fixture
async def client(runtime: Runtime) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async with TestClient(TestServer(create_app(runtime), host="127.0.0.1")) as test_client:
        yield test_client


def typed(runtime: Runtime, channel: str, user: str) -> Callable[[str], Awaitable[str]]:
    async def say(text: str) -> str:
        replies = await runtime.pipeline.handle(InboundMessage(channel, user, user, text))
        return "\n".join(r.text for r in replies if isinstance(r, TextReply))

    return say


async def applied(runtime: Runtime, channel: str, user: str) -> None:
    """The applicant answers every question in the chat; the documents are asked for next."""
    say = typed(runtime, channel, user)
    await say("我要开店")
    for answer in ANSWERS:
        reply = await say(answer)
    assert "营业执照" in reply


async def stored(runtime: Runtime, kind: str) -> bytes:
    """What the reviewer opens for the application's ``kind`` of document."""
    [application] = await runtime.commerce.onboarding.queue(SYSTEM_ACTOR)
    ref = await runtime.commerce.onboarding.document(application.public_id, kind, SYSTEM_ACTOR)
    assert isinstance(ref, FileRef)
    data, _ = await upload_store(runtime.container.settings.data_dir).get(ref)
    return data


async def test_telegram_document_and_photo_are_downloaded_and_attached(
    runtime: Runtime, client: TestClient[web.Request, web.Application], platforms: tuple[FakePlatforms, str]
) -> None:
    fake, _ = platforms
    fake.files.update({"licence-pdf": PDF, "tax-photo": JPEG, "notes-doc": b"PK\x03\x04 a word file"})
    channel = runtime.channels["telegram"]
    assert isinstance(channel, TelegramChannel)
    await applied(runtime, "telegram", str(CHAT))
    shopper = Shopper(user_id=CHAT)
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}

    async def send(**content: Any) -> None:
        response = await client.post(
            "/telegram/webhook", data=body(shopper.message(**content)), headers=headers
        )
        assert response.status == 200
        await channel.drain()

    document = {"file_id": "notes-doc", "file_unique_id": "n1", "file_name": "licence.docx"}
    await send(document=document)  # a Word file is not a scan: refused, asked again
    assert "无法保存" in fake.sent[-1] and await runtime.commerce.onboarding.queue(SYSTEM_ACTOR) == []
    await send(document={**document, "file_id": "licence-pdf", "file_name": "licence.pdf"})
    await send(photo=[{"file_id": "tax-photo", "file_unique_id": "t1", "width": 90, "height": 90}])
    assert fake.calls.count("getFile") == 3 and fake.calls.count("file") == 3
    assert "已提交审核" in fake.sent[-1]
    assert await stored(runtime, "business_licence") == PDF
    assert await stored(runtime, "tax_registration") == JPEG


async def test_a_wechat_image_is_fetched_through_the_media_api(
    runtime: Runtime, client: TestClient[web.Request, web.Application], platforms: tuple[FakePlatforms, str]
) -> None:
    fake, _ = platforms
    fake.files.update({"MEDIA_LICENCE": JPEG, "MEDIA_TAX": JPEG + b"tax"})
    channel = runtime.channels["wechat"]
    assert isinstance(channel, WeChatChannel)
    official = Official(client, channel)
    await applied(runtime, "wechat", OPENID)
    for media in ("MEDIA_LICENCE", "MEDIA_TAX"):
        official.created += 1
        official.msg_ids += 1
        xml = (
            f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
            f"<CreateTime>{official.created}</CreateTime><MsgType><![CDATA[image]]></MsgType>"
            f"<PicUrl><![CDATA[https://mmbiz.qpic.cn/{media}]]></PicUrl><MediaId><![CDATA[{media}]]></MediaId>"
            f"<MsgId>{official.msg_ids}</MsgId></xml>"
        )
        status, _ = await official.post_xml(xml)
        assert status == 200
    assert fake.calls.count("media/get") == 2
    assert await stored(runtime, "business_licence") == JPEG
    assert await stored(runtime, "tax_registration") == JPEG + b"tax"


async def test_a_platform_out_of_reach_keeps_the_chat_handle(
    runtime: Runtime, platforms: tuple[FakePlatforms, str]
) -> None:
    """The file server has nothing (404): the application still goes in, marked as sent in chat."""
    await applied(runtime, "telegram", str(CHAT))
    say = typed(runtime, "telegram", str(CHAT))
    for file_id in ("gone-1", "gone-2"):
        replies = await runtime.pipeline.handle(
            InboundMessage("telegram", str(CHAT), str(CHAT), "", attachments=(_photo(file_id),))
        )
        assert replies
    [application] = await runtime.commerce.onboarding.queue(SYSTEM_ACTOR)
    assert application.documents["business_licence"] == "chat:tg-file:gone-1"
    assert "正在等待审核" in await say("我要开店")


def _photo(file_id: str) -> Attachment:
    return Attachment("image", url=f"tg-file:{file_id}")
