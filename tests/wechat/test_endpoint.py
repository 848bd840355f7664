"""The /wechat endpoint: every fixture accepted, forgeries refused, retries answered once, 5 s rule."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import xmltodict

from bot.channels.wechat.security import sha1_signature
from tests.wechat.conftest import FIXTURES, TOKEN, WeChatWorld
from tests.wechat.test_security import BOMB, XXE

FILES = sorted((FIXTURES / "wechatpy_parser").glob("*.xml")) + sorted(
    (FIXTURES / "wechatpy_events").glob("*.xml")
)


def assert_valid_answer(status: int, text: str) -> None:
    assert status == 200, text
    if text != "success":
        reply = xmltodict.parse(text)["xml"]
        assert reply["MsgType"] in ("text", "news") and reply["ToUserName"] and reply["FromUserName"]


@pytest.mark.parametrize("encrypted", [False, True], ids=["plaintext", "safe"])
async def test_every_fixture_is_accepted(world: WeChatWorld, encrypted: bool) -> None:
    assert len(FILES) == 51
    for path in FILES:
        status, text = await world.official.post_xml(path.read_text(encoding="utf-8"), encrypted=encrypted)
        assert_valid_answer(status, text)
    await world.channel.drain()


async def test_url_verification(world: WeChatWorld) -> None:
    query = {**world.official.query(), "echostr": "hello123"}
    response = await world.client.get("/wechat", params=query)
    assert response.status == 200 and await response.text() == "hello123"
    response = await world.client.get("/wechat", params={**query, "signature": "0" * 40})
    assert response.status == 403


async def test_forged_stale_and_hostile_requests_change_nothing(world: WeChatWorld) -> None:
    official = world.official
    xml = official.text_xml("oForger", "你好")
    forged = {**official.query(), "signature": "f" * 40}
    assert (await official.post_xml(xml, query=forged))[0] == 403
    stale = official.query(timestamp=int(world.channel.now()) - 3600)
    assert (await official.post_xml(xml, query=stale))[0] == 403
    only_msg_signature = {k: v for k, v in official.query(encrypt="x").items() if k != "signature"}
    assert (await official.post_xml(xml, query=only_msg_signature))[0] == 403
    for body in (BOMB, XXE):
        response = await world.client.post("/wechat", params=official.query(), data=body)
        assert response.status == 400
    # a wrong msg_signature on an encrypted body
    envelope = xmltodict.parse(official.crypto.encrypt_message(xml, "n"))["xml"]
    bad = {**official.query(encrypt=envelope["Encrypt"]), "msg_signature": "0" * 40}
    assert (await official.post_xml(xml, encrypted=True, query=bad))[0] == 403
    assert not await world.runtime.container.redis.keys("{conv:wechat:*}:turn:*")
    assert world.fake.calls == []
    # the same message, properly signed, is then answered normally (nothing was claimed before)
    assert "购物助手" in await official.say("oForger", "你好")


async def test_safe_mode_refuses_plaintext_and_encrypts_answers(world: WeChatWorld) -> None:
    world.channel.settings = world.channel.settings.model_copy(update={"mode": "safe"})
    status, text = await world.official.post_xml(world.official.text_xml("oSafe", "你好"))
    assert status == 400
    status, text = await world.official.post_xml(world.official.text_xml("oSafe", "你好"), encrypted=True)
    assert status == 200 and "购物助手" in xmltodict.parse(text)["xml"]["Content"]


async def test_previous_aes_key_accepted_during_rotation(world: WeChatWorld) -> None:
    from wechatpy.crypto import WeChatCrypto

    from tests.wechat.conftest import APP_ID, OLD_AES_KEY

    old = WeChatCrypto(TOKEN, OLD_AES_KEY, APP_ID)
    status, text = await world.official.post_xml(
        world.official.text_xml("oRot", "你好"), encrypted=True, crypto=old
    )
    assert status == 200 and "购物助手" in xmltodict.parse(text)["xml"]["Content"]


async def test_retries_of_one_message_get_one_answer(world: WeChatWorld) -> None:
    xml = world.official.text_xml("oRetry", "有没有红色连衣裙")
    answers = [await world.official.post_xml(xml) for _ in range(3)]
    first = xmltodict.parse(answers[0][1])["xml"]["Content"]
    assert "连衣裙" in first
    # a retry whose answer WeChat lost gets the same passive reply; the pipeline ran once
    assert all(text == answers[0][1] for _, text in answers)
    state = await world.runtime.pipeline.state_of("wechat:oRetry")
    assert len(state.shown_products) >= 1
    assert world.fake.sent() == []


async def test_slow_pipeline_answers_success_then_customer_service(
    world: WeChatWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = world.runtime.pipeline
    real = pipeline.handle
    runs = 0

    async def slow(message):  # type: ignore[no-untyped-def]
        nonlocal runs
        runs += 1
        await asyncio.sleep(4.6)
        return await real(message)

    monkeypatch.setattr(pipeline, "handle", slow)
    xml = world.official.text_xml("oSlow", "有没有红色连衣裙")
    started = time.monotonic()
    status, text = await world.official.post_xml(xml)
    assert status == 200 and text == "success" and time.monotonic() - started < 4.5
    # WeChat's retries while we work: each gets `success`, nothing runs twice
    for _ in range(2):
        assert (await world.official.post_xml(xml)) == (200, "success")
    await world.channel.drain()
    assert runs == 1
    [message] = world.fake.sent()
    assert message["touser"] == "oSlow" and message["msgtype"] in ("text", "msgmenu")
    body = message.get("msgmenu", {}).get("head_content") or message.get("text", {}).get("content")
    assert "连衣裙" in body
    assert (await world.official.post_xml(xml)) == (200, "success")
    assert len(world.fake.sent()) == 1


async def test_events_subscribe_location_unsubscribe(world: WeChatWorld) -> None:
    official = world.official

    def event(user: str, name: str, extra: str = "") -> str:
        official.created += 1
        return (
            f"<xml><ToUserName>gh</ToUserName><FromUserName>{user}</FromUserName><CreateTime>{official.created}"
            f"</CreateTime><MsgType>event</MsgType><Event>{name}</Event>{extra}</xml>"
        )

    _, text = await official.post_xml(event("oEv", "subscribe"))
    assert "欢迎关注" in text and "1. " in text
    customers = world.runtime.container.commerce.customers
    bound = await customers.identify("wechat", "oEv")
    assert ("wechat", "oEv") in await customers.identities(bound.id)
    # a scan of a product QR code opens the product
    _, text = await official.post_xml(event("oEv", "SCAN", "<EventKey>p_D1</EventKey><Ticket>t</Ticket>"))
    assert "红色碎花连衣裙" in text
    loc = "<Latitude>31.2</Latitude><Longitude>121.5</Longitude><Precision>10</Precision>"
    assert (await official.post_xml(event("oEv", "LOCATION", loc)))[1] == "success"
    # replying "1" presses the first numbered choice shown (the card's first button)
    assert "1. 加入购物车" in text
    assert "哪一款" in await official.say("oEv", "1")
    assert (await official.post_xml(event("oEv", "unsubscribe")))[1] == "success"
    await world.channel.sender.push("oEv", [], "x")
    from dialogs.messages import TextReply

    await world.channel.sender.push("oEv", [TextReply("hi")], "after-unsubscribe")
    assert world.fake.sent() == []


async def test_replay_cli_prints_json_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.channels.wechat.cli import replay_files
    from bot.settings import load_settings

    settings = load_settings(data_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'r.db'}")
    files = [
        FIXTURES / "wechatpy_parser" / "parse_text_message.xml",
        FIXTURES / "wechatpy_events" / "subscribe_event.xml",
    ]
    lines = await replay_files(files, settings)
    assert [line["status"] for line in lines if "status" in line] == [200, 200]
    assert all(line["file"] for line in lines)
    assert sha1_signature("a", "b") == sha1_signature("b", "a")


async def test_the_query_is_read_as_aiohttp_reads_it() -> None:
    """WeChat's plain query is split without yarl, to what ``request.query`` gives (first values)."""
    from aiohttp.test_utils import make_mocked_request

    from bot.channels.wechat.http import query_of

    for target in (
        "/wechat?timestamp=1&nonce=n&signature=ab12&encrypt_type=aes&msg_signature=cd",
        "/wechat?a=1&a=2&b&&c=&=x",
        "/wechat?openid=o%2Bx&nonce=a+b",
        "/wechat?echostr=%E4%BD%A0&x=1",
        "/wechat",
    ):
        request = make_mocked_request("POST", target)
        assert dict(query_of(request)) == {k: request.query[k] for k in request.query}, target
