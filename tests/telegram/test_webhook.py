"""The webhook: authentication, malformed bodies, de-duplication, durability and every real fixture."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.inbox import StoredUpdate
from bot.channels.telegram.session import RecordingSession, blocked
from bot.http.app import create_app
from bot.runtime import Runtime
from bot.settings import ConfigurationError
from dialogs.messages import TextReply
from tests.telegram.conftest import SECRET, FakeTimer, Shopper, body, fixture_updates, telegram_settings

Client = TestClient[web.Request, web.Application]
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}


class Crash(Exception):
    """Stands for the process dying (kill -9) at the injected point."""


async def test_missing_or_wrong_secret_is_refused_and_nothing_is_stored(
    client: Client, channel: TelegramChannel, session: RecordingSession
) -> None:
    update = body(Shopper().text("你好"))
    assert (await client.post("/telegram/webhook", data=update)).status == 401
    wrong = {"X-Telegram-Bot-Api-Secret-Token": SECRET + "x"}
    assert (await client.post("/telegram/webhook", data=update, headers=wrong)).status == 403
    assert await channel.inbox.backlog() == 0
    assert await channel.drain() == 0 and session.calls == []


async def test_malformed_bodies_get_400(client: Client, channel: TelegramChannel) -> None:
    for bad in (b"{not json", b"[1, 2]", b'{"message": {}}', b'{"update_id": "7"}', b"\xff\xfe"):
        response = await client.post("/telegram/webhook", data=bad, headers=HEADERS)
        assert response.status == 400, bad
    assert await channel.inbox.backlog() == 0


async def test_same_update_twice_has_one_effect(
    client: Client, channel: TelegramChannel, session: RecordingSession
) -> None:
    update = body(Shopper().text("你好"))
    for _ in range(3):
        assert (await client.post("/telegram/webhook", data=update, headers=HEADERS)).status == 200
    assert await channel.inbox.backlog() == 1
    await channel.drain()
    assert len(session.of("sendMessage")) == 1
    # a redelivery after processing is also ignored
    assert (await client.post("/telegram/webhook", data=update, headers=HEADERS)).status == 200
    await channel.drain()
    assert len(session.of("sendMessage")) == 1


async def test_webhook_mode_refuses_to_start_without_a_secret(
    runtime: Runtime, session: RecordingSession, timer: FakeTimer
) -> None:
    context = runtime.container.context
    with pytest.raises(ConfigurationError):
        TelegramChannel(context, telegram_settings(webhook_secret=None, mode="webhook"), session=session)
    # without a secret, "auto" means long polling: no webhook route is mounted at all
    polling = TelegramChannel(context, telegram_settings(webhook_secret=None), session=session, timer=timer)
    app = web.Application()
    polling.install_routes(app)
    assert not list(app.router.routes()) and polling.jobs() == (polling.run_polling,)
    await polling.aclose()


@pytest.mark.parametrize(
    "name,update", list(fixture_updates()), ids=lambda v: v if isinstance(v, str) else ""
)
async def test_every_fixture_gets_200_and_no_error(
    name: str,
    update: dict[str, object],
    client: Client,
    channel: TelegramChannel,
    session: RecordingSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    response = await client.post("/telegram/webhook", data=body(update), headers=HEADERS)
    assert response.status == 200, name
    assert await channel.drain() == 1
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")], name
    for call in session.calls:  # whatever we said is well-formed
        text = call.params.get("text")
        assert text is None or 0 < len(text) <= 4096
    if "callback_query" in update and "message" not in update:
        assert session.calls[0].method == "answerCallbackQuery"


async def test_crash_between_storing_and_processing_loses_nothing(
    runtime: Runtime, channel: TelegramChannel, session: RecordingSession, timer: FakeTimer
) -> None:
    first = channel  # the one whose webhook create_app mounts

    async def crash(entry: StoredUpdate) -> None:
        raise Crash("killed after the 200, before processing")

    first.before_process = crash
    async with TestClient(TestServer(create_app(runtime), host="127.0.0.1")) as client:
        response = await client.post("/telegram/webhook", data=body(Shopper().text("你好")), headers=HEADERS)
        assert response.status == 200
    with pytest.raises(Crash):
        await first.drain()
    assert session.calls == []
    # the process restarts: a new channel on the same Redis finds the update and handles it once
    context = runtime.container.context
    restarted = TelegramChannel(context, telegram_settings(), session=session, timer=timer)
    assert await restarted.drain() == 1
    assert await restarted.drain() == 0
    assert len(session.of("sendMessage")) == 1
    assert await restarted.inbox.backlog() == 0
    await restarted.aclose()


async def test_updates_of_one_chat_are_handled_in_order(
    client: Client, channel: TelegramChannel, session: RecordingSession
) -> None:
    shopper, other = Shopper(8001), Shopper(8002, lang="en")
    for update in (
        shopper.text("你好"),
        other.text("hello"),
        shopper.text("有没有红色连衣裙"),
        other.text("help"),
    ):
        assert (await client.post("/telegram/webhook", data=body(update), headers=HEADERS)).status == 200
    await channel.drain()
    mine = [c.params["text"] for c in session.calls if c.chat_id == "8001"]
    assert "购物助手" in mine[0] and "红色碎花连衣裙" in "\n".join(mine[1:])


async def test_blocked_user_stops_messages_without_crashing_the_worker(
    client: Client, channel: TelegramChannel, session: RecordingSession, runtime: Runtime
) -> None:
    shopper = Shopper(8101)
    session.fail(blocked, chat_id=8101)
    await client.post("/telegram/webhook", data=body(shopper.text("你好")), headers=HEADERS)
    await channel.drain()
    assert session.failed and session.calls == []
    assert await channel.outbound.is_blocked("8101")
    # notifications to the blocked user are skipped (and the worker is fine for others)
    await channel.sender.push("8101", [], "outbox:1")
    other = Shopper(8102)
    await client.post("/telegram/webhook", data=body(other.text("你好")), headers=HEADERS)
    await channel.drain()
    assert [c.chat_id for c in session.calls] == ["8102"]
    # the user unblocks the bot and writes again: answers resume
    await client.post("/telegram/webhook", data=body(shopper.text("你好")), headers=HEADERS)
    await channel.drain()
    assert session.calls[-1].chat_id == "8101"
    # and the mark is gone (cleared with the reply's send): notifications reach them again
    assert not await channel.outbound.is_blocked("8101")
    before = len(session.calls)
    await channel.sender.push("8101", [TextReply("your parcel left")], "outbox:2")
    assert [c.chat_id for c in session.calls[before:]] == ["8101"]
