"""The Bot API session against a Bot API on loopback: JSON bodies, Telegram's errors, uploads.

The channel posts calls as JSON (``botapi``) and does not parse the answers of the replies it sends;
these tests check what Telegram would receive and that its refusals still reach the outbound path
as aiogram's errors (429 honoured, 403 stops the chat, an edit that changed nothing is fine).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.methods import SendDocument
from aiogram.types import BufferedInputFile
from aiohttp import web

from bot.channels.telegram.botapi import BotApiSession
from bot.channels.telegram.outbound import ChatBlocked, Outbound, SentParts
from bot.channels.telegram.render import Outgoing, RenderContext, Renderer
from bot.channels.telegram.session import TEST_TOKEN
from bot.infra.ratelimit import Limits, SharedRateLimiter
from bot.infra.redis import make_redis
from dialogs.messages import Button, TextReply
from dialogs.texts import load_texts
from tests.telegram.conftest import FakeTimer


class LoopbackBotApi:
    """Records each call's content type and body; answers by a script per chat (else ``ok``)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, bytes]] = []  # method, content type, body
        self.answers: dict[str, list[tuple[int, dict[str, Any]]]] = {}

    def refuse(self, chat: str, status: int, description: str, **parameters: Any) -> None:
        answer = {"ok": False, "error_code": status, "description": description}
        if parameters:
            answer["parameters"] = parameters
        self.answers.setdefault(chat, []).append((status, answer))

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        method = request.match_info["method"]
        self.calls.append((method, request.content_type, body))
        chat = ""
        if request.content_type == "application/json":
            chat = str(json.loads(body).get("chat_id", ""))
        scripted = self.answers.get(chat)
        if scripted:
            status, answer = scripted.pop(0)
            return web.json_response(answer, status=status)
        if method == "getMe":
            result: Any = {"id": 42, "is_bot": True, "first_name": "shopbot", "username": "shopbot_bot"}
        elif method.startswith(("send", "edit")):
            chat_of_reply = {"id": 1, "type": "private"}
            result = {"message_id": len(self.calls), "date": 1_700_000_000, "chat": chat_of_reply}
        else:
            result = True
        return web.json_response({"ok": True, "result": result})

    def json_calls(self) -> list[tuple[str, dict[str, Any]]]:
        return [(m, json.loads(b)) for m, kind, b in self.calls if kind == "application/json"]


@pytest.fixture(scope="module")
async def api() -> AsyncIterator[tuple[LoopbackBotApi, str]]:
    fake = LoopbackBotApi()
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", fake.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield fake, f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


@pytest.fixture
async def wired(api: tuple[LoopbackBotApi, str]) -> AsyncIterator[tuple[LoopbackBotApi, Outbound, Renderer]]:
    fake, base = api
    fake.calls.clear()
    fake.answers.clear()
    redis = make_redis("memory://")
    bot = Bot(TEST_TOKEN, session=BotApiSession(base))
    outbound = Outbound(bot, redis, SharedRateLimiter(redis, FakeTimer(), Limits()), max_attempts=2)
    yield fake, outbound, Renderer(load_texts(), redis)
    await bot.session.close()


async def test_a_reply_with_buttons_is_one_json_body_with_its_text_and_keyboard_intact(
    wired: tuple[LoopbackBotApi, Outbound, Renderer],
) -> None:
    fake, outbound, renderer = wired
    items = await renderer.render(
        [TextReply("红色连衣裙 <有货> & 包邮", (Button("加入购物车", "add:D1"),))], RenderContext(7001)
    )
    await outbound.send_all(items, "7001")
    [(method, body)] = fake.json_calls()
    assert method == "sendMessage"
    assert body["chat_id"] == 7001
    assert body["text"] == "红色连衣裙 &lt;有货&gt; &amp; 包邮"  # escaped for HTML, the Chinese as is
    assert body["parse_mode"] == "HTML"
    assert body["link_preview_options"] == {"is_disabled": True}
    assert body["reply_markup"] == {
        "inline_keyboard": [[{"text": "加入购物车", "callback_data": "t|add:D1"}]]
    }
    assert None not in body.values()  # unset options are left out, not sent as null


async def test_telegram_refusals_reach_the_outbound_path_as_before(
    wired: tuple[LoopbackBotApi, Outbound, Renderer],
) -> None:
    """A 429 pauses the chat for retry_after and the message goes out after it; a 403 marks the chat
    blocked and stops; "message is not modified" counts as sent."""
    fake, outbound, renderer = wired
    [item] = await renderer.render([TextReply("稍等")], RenderContext(7002))
    fake.refuse("7002", 429, "Too Many Requests: retry after 5", retry_after=5)
    timer = outbound.timer
    started = timer.now()
    await outbound.send(item, "7002")
    assert [m for m, _ in fake.json_calls()] == ["sendMessage", "sendMessage"]
    assert timer.now() - started >= 5  # waited out retry_after before the second try

    fake.refuse("7003", 403, "Forbidden: bot was blocked by the user")
    with pytest.raises(ChatBlocked):
        await outbound.send_all(await renderer.render([TextReply("稍等")], RenderContext(7003)), "7003")
    assert await outbound.is_blocked("7003")

    fake.refuse("7004", 400, "Bad Request: message is not modified")
    sent = SentParts(outbound.redis, "test:sent:7004", 60)
    await outbound.send_all(
        await renderer.render([TextReply("稍等")], RenderContext(7004)), "7004", sent=sent
    )
    assert int(await outbound.redis.get("test:sent:7004")) == 1


async def test_answers_that_are_read_are_still_aiogram_models(
    wired: tuple[LoopbackBotApi, Outbound, Renderer],
) -> None:
    _fake, outbound, _renderer = wired
    me = await outbound.bot.get_me()
    assert me.username == "shopbot_bot"
    assert await outbound.bot.answer_callback_query("cb-1") is True


async def test_a_file_goes_as_a_multipart_upload(wired: tuple[LoopbackBotApi, Outbound, Renderer]) -> None:
    fake, outbound, _renderer = wired
    document = BufferedInputFile(b"%PDF-1.4 invoice", filename="invoice.pdf")
    await outbound.send(Outgoing(SendDocument(chat_id=7005, document=document, caption="发票")), "7005")
    [(method, kind, body)] = fake.calls
    assert (method, kind) == ("sendDocument", "multipart/form-data")
    assert b"%PDF-1.4 invoice" in body and "发票".encode() in body
