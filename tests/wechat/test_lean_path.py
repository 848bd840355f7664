"""The WeChat path without its per-turn overhead (issue 16) behaves as the one it replaced.

- The message XML is read by a lean expat parser, into exactly xmltodict's dict (every fixture, and
  the shapes WeChat Pay and events use); messages are classified without wechatpy's second parse, and
  the scene of a QR-code subscribe is still wechatpy's.
- Passive replies are written without wechatpy's reply objects and read back the same.
- A turn costs fewer Redis round trips: the nonce and the claim go together (a replayed nonce's claim
  is undone), the unanswered list is written in the turn's first round trip and struck off together,
  and the shopper's language comes from the state the turn saved, not from a re-read.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import xmltodict
from wechatpy import parse_message
from wechatpy import replies as wx

from bot.channels.wechat.inbound import classify, scene_payload
from bot.channels.wechat.pending import PENDING, PendingMessages
from bot.channels.wechat.render import Article, Rendered, passive_reply
from bot.channels.wechat.security import Rejected, parse_xml
from dialogs.messages import Button
from dialogs.texts import load_texts
from tests.wechat.conftest import FIXTURES, WeChatWorld, count_round_trips

FILES = sorted((FIXTURES / "wechatpy_parser").glob("*.xml")) + sorted(
    (FIXTURES / "wechatpy_events").glob("*.xml")
)
SHAPES = [
    "<xml><a>1</a><a>2</a><a>3</a></xml>",  # repeated: a list
    '<xml><a x="1">t</a><b y="2"/><c><d>1</d> tail </c></xml>',  # attributes, text beside children
    "<xml><PicList><item><PicMd5Sum>a</PicMd5Sum></item><item><PicMd5Sum>b</PicMd5Sum></item></PicList></xml>",
    "<xml>\n  <Empty></Empty>\n  <Blank>   </Blank>\n  <Mixed>a<![CDATA[<b>]]>c</Mixed>\n</xml>",
    '<?xml version="1.0" encoding="utf-8"?><xml><return_code><![CDATA[SUCCESS]]></return_code></xml>',
]


@pytest.mark.parametrize("path", FILES, ids=lambda p: Path(p).stem)
def test_every_fixture_parses_as_xmltodict_and_classifies_as_wechatpy(path: Path) -> None:
    xml = path.read_text(encoding="utf-8")
    root = parse_xml(xml)
    assert root == xmltodict.parse(xml, disable_entities=True)["xml"]
    inbound = classify(xml, root)
    try:
        parsed: Any = parse_message(xml)
    except Exception:  # noqa: BLE001 - what wechatpy cannot read is ignored
        assert inbound.kind == "ignore"
        return
    if str(root.get("Event") or "").lower() in ("subscribe", "scan"):
        scene = getattr(parsed, "scene_id", None) or getattr(parsed, "key", None)
        expected = scene_payload(str(scene) if scene else None)
        assert (inbound.message.payload if inbound.message else None) == expected


@pytest.mark.parametrize("xml", SHAPES)
def test_other_shapes_parse_as_xmltodict(xml: str) -> None:
    assert parse_xml(xml) == xmltodict.parse(xml, disable_entities=True)["xml"]


@pytest.mark.parametrize("key, payload", [("qrscene_p_D1", "p:D1"), ("qrscene_42", None), ("p_D2", "p:D2")])
def test_a_qr_code_subscribe_opens_its_product(key: str, payload: str | None) -> None:
    xml = (
        "<xml><ToUserName>gh</ToUserName><FromUserName>oScan</FromUserName><CreateTime>1</CreateTime>"
        f"<MsgType>event</MsgType><Event>subscribe</Event><EventKey>{key}</EventKey></xml>"
    )
    inbound = classify(xml, parse_xml(xml))
    assert inbound.kind == "subscribe"
    assert (inbound.message.payload if inbound.message else None) == payload


def test_unreadable_xml_is_refused() -> None:
    for bad in ("<xml><a></xml>", "<notxml>1</notxml>", "<xml>&undefined;</xml>", "plain"):
        with pytest.raises(Rejected):
            parse_xml(bad)


def test_passive_replies_read_back_as_wechatpys() -> None:
    texts = load_texts()
    rendered = Rendered(
        text="红色连衣裙 & <b>", choices=[Button("加入购物车", "add:1"), Button("详情", "p:1")]
    )
    ours = xmltodict.parse(passive_reply(rendered, texts, "en", source="gh_a", target="oB"))["xml"]
    theirs = xmltodict.parse(wx.TextReply(source="gh_a", target="oB", content=ours["Content"]).render())[
        "xml"
    ]
    assert "红色连衣裙 & <b>" in ours["Content"] and "1. 加入购物车" in ours["Content"]
    assert {k: v for k, v in ours.items() if k != "CreateTime"} == {
        k: v for k, v in theirs.items() if k != "CreateTime"
    }
    closing = Rendered(text="a ]]> b")  # would end wechatpy's CDATA early
    assert (
        xmltodict.parse(passive_reply(closing, texts, "en", source="g", target="o"))["xml"]["Content"]
        == "a ]]> b"
    )
    card = Rendered(articles=[Article("裙 ¥99", "红色", "https://x/p.jpg", "https://x/p")])
    news = xmltodict.parse(passive_reply(card, texts, "en", source="gh_a", target="oB"))["xml"]
    article = wx.ArticlesReply(source="gh_a", target="oB")
    article.add_article(
        {"title": "裙 ¥99", "description": "红色", "image": "https://x/p.jpg", "url": "https://x/p"}
    )
    expected = xmltodict.parse(article.render())["xml"]
    assert {k: v for k, v in news.items() if k != "CreateTime"} == {
        k: v for k, v in expected.items() if k != "CreateTime"
    }


async def test_a_replayed_nonce_leaves_no_claim_behind(world: WeChatWorld) -> None:
    """A captured signed URL with another shopper's message: refused, and that message not taken."""
    official, redis = world.official, world.channel.redis
    captured = official.query()
    assert (await official.post_xml(official.text_xml("oShopper", "你好"), query=captured))[0] == 200
    forged = official.text_xml("oVictim", "取消订单", msg_id=4242)
    assert (await official.post_xml(forged, query=captured))[0] == 403
    assert not await redis.exists("shopbot:wechat:seen:msg:4242")
    assert (await official.post_xml(forged))[0] == 200  # WeChat's own delivery of it is answered
    # encrypted: the captured URL's msg_signature covers only its own ciphertext
    sealed = official.crypto.encrypt_message(official.text_xml("oShopper", "你好"), "n")
    encrypt = xmltodict.parse(sealed)["xml"]["Encrypt"]
    captured = official.query(encrypt=encrypt)
    assert (await official.post_xml(official.text_xml("oShopper", "再见"), encrypted=True, query=captured))[
        0
    ] == 403
    assert (
        await official.post_xml(
            official.text_xml("oVictim", "取消", msg_id=4343), encrypted=True, query=captured
        )
    )[0] == 403
    assert not await redis.exists("shopbot:wechat:seen:msg:4343")
    await world.channel.drain()


async def test_a_passive_turn_reads_no_state_and_leaves_nothing_unanswered(world: WeChatWorld) -> None:
    channel = world.channel
    pipeline = world.runtime.pipeline
    reads: list[str] = []
    real = pipeline.state_of

    async def counted(key: str) -> Any:
        reads.append(key)
        return await real(key)

    pipeline.state_of = counted  # type: ignore[method-assign]
    reply = await world.official.say("oLean", "請問有沒有紅色的連衣裙", encrypted=True)
    assert "回覆數字選擇" in reply and reads == []  # the header in the language the turn saved (zh-Hant)
    await asyncio.sleep(0.05)  # the strike-off follows the written answer
    assert await channel.redis.hlen(PENDING) == 0
    await channel.drain()


async def test_answered_messages_are_struck_off_together(world: WeChatWorld) -> None:
    redis = world.channel.redis
    pending = PendingMessages(redis)
    for n in range(20):
        await pending.add(f"msg:{n}", "<xml/>")
    real = redis.pipeline
    trips = count_round_trips(redis)  # the commands of each round trip
    try:
        await asyncio.gather(*(pending.done(f"msg:{n}") for n in range(20)))
    finally:
        redis.pipeline = real  # type: ignore[method-assign]
    assert await redis.hlen(PENDING) == 0
    hdels = [command for trip in trips for command in trip if command[0] == "HDEL"]
    assert 1 <= len(trips) <= 2 and sum(len(c) - 2 for c in hdels) == 20


async def test_an_answered_message_rides_the_next_round_trip_or_goes_alone_when_idle(
    world: WeChatWorld,
) -> None:
    """The passive reply's strike-off starts no round trip of its own while others are on their way;
    alone, it goes within a moment, and draining the channel waits for it."""
    channel = world.channel
    redis, pending, group = channel.redis, channel.pending, channel.group
    for n in range(3):
        await pending.add(f"msg:ride{n}", "<xml/>")
    trips = count_round_trips(redis)
    pending.answered("msg:ride0")
    pending.answered("msg:ride1")
    assert pending.striking("msg:ride0") and not pending.striking("msg:ride2")
    await group.run(lambda batch: batch.get("shopbot:test:other"))  # someone else's round trip
    assert len(trips) == 1 and [c[0] for c in trips[0]] == ["HDEL", "GET"]
    assert await redis.hkeys(PENDING) == [b"msg:ride2"]
    pending.answered("msg:ride2")  # nobody else: its own round trip, soon
    await asyncio.sleep(0.1)
    assert await redis.hlen(PENDING) == 0 and len(trips) == 2
    await pending.add("msg:ride3", "<xml/>")
    pending.answered("msg:ride3")
    await channel.drain()  # (shutdown) waits for it
    assert await redis.hlen(PENDING) == 0
