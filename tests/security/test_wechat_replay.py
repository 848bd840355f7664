"""Finding 7: one captured signed WeChat URL cannot carry other bodies (nonces are remembered for the
freshness window), and with an AES key set plaintext bodies are refused unless explicitly allowed."""

from __future__ import annotations

import pytest

from tests.wechat.conftest import WeChatWorld

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


async def test_a_captured_signed_url_is_refused_with_other_bodies(world: WeChatWorld) -> None:
    official = world.official
    captured = official.query()
    status, _ = await official.post_xml(official.text_xml("oShopper", "你好"), query=captured)
    assert status == 200
    accepted = 0
    for attempt in range(10):
        forged = official.text_xml(f"oVictim{attempt}", f"取消订单 {attempt}")
        status, _ = await official.post_xml(forged, query=captured)
        accepted += status == 200
        assert status == 403
    assert accepted == 0
    await world.channel.drain()


async def test_wechat_retrying_the_same_request_is_still_answered(world: WeChatWorld) -> None:
    official = world.official
    query = official.query()
    xml = official.text_xml("oRetry", "你好")
    first = await official.post_xml(xml, query=query)
    again = await official.post_xml(xml, query=query)
    assert first[0] == again[0] == 200 and first[1] == again[1]
    await world.channel.drain()


async def test_plaintext_is_refused_when_an_aes_key_is_set(world: WeChatWorld) -> None:
    settings = world.channel.settings
    world.channel.settings = settings.model_copy(update={"mode": "compatible", "allow_plaintext": False})
    status, text = await world.official.post_xml(world.official.text_xml("oPlain", "你好"))
    assert status == 400 and text == "plaintext_refused"
    status, _ = await world.official.post_xml(world.official.text_xml("oPlain", "你好"), encrypted=True)
    assert status == 200
    world.channel.settings = settings.model_copy(update={"allow_plaintext": True})
    status, _ = await world.official.post_xml(world.official.text_xml("oPlain", "你好"))
    assert status == 200
    await world.channel.drain()
