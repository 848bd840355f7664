"""WeChat never marks a failed message as seen: the answer is a 503 and WeChat's own retry (the same
MsgId) is processed again and answered; a retry of an answered message gets the same answer."""

from __future__ import annotations

import json
import time
from typing import Any

import xmltodict

from bot.channels.wechat.pending import PENDING
from dialogs.messages import InboundMessage
from tests.wechat.conftest import WeChatWorld


async def test_a_failed_message_is_processed_again_on_wechats_retry(world: WeChatWorld) -> None:
    pipeline = world.runtime.pipeline
    real = pipeline._handle_locked
    failures: list[str] = []

    async def failing_once(message: InboundMessage, state: Any) -> Any:
        if not failures:
            failures.append(message.text)
            raise RuntimeError("the database went away mid-turn")
        return await real(message, state)

    pipeline._handle_locked = failing_once  # type: ignore[method-assign]
    official = world.official
    xml = official.text_xml("oRetry", "你好")
    status, _ = await official.post_xml(xml)
    assert status == 503 and failures == ["你好"]  # not "success": WeChat will try again
    status, text = await official.post_xml(xml)  # WeChat's retry: same MsgId
    assert status == 200 and "购物助手" in xmltodict.parse(text)["xml"]["Content"]
    again = await official.post_xml(xml)  # a third delivery: the same answer, nothing run again
    assert again == (200, text) and len(failures) == 1


async def test_a_message_a_killed_process_took_is_answered_on_retry_or_by_recovery(
    world: WeChatWorld,
) -> None:
    """kill -9 after a message was taken, before it was answered (issue 11; tests/reliability/ shows it
    with real processes): WeChat's retry runs it here, and one nobody retried is answered by the
    recovery job with a customer-service message, once."""
    channel, official = world.channel, world.official
    retried = official.text_xml("oRetried", "你好")
    forgotten = official.text_xml("oForgotten", "你好")
    for xml in (retried, forgotten):  # what the killed process left: taken, written down, unanswered
        key = "msg:" + xmltodict.parse(xml)["xml"]["MsgId"]
        await channel.redis.set(f"shopbot:wechat:seen:{key}", b"-")
        await channel.redis.hset(PENDING, key, json.dumps({"xml": xml, "at": time.time() - 3600}))
    status, text = await official.post_xml(retried)  # WeChat's retry of the first
    assert status == 200 and "购物助手" in xmltodict.parse(text)["xml"]["Content"]
    assert await channel.recover() == 1  # the second: nobody retried it
    await channel.drain()
    sent = [body["touser"] for path, body in world.fake.calls if path.endswith("/message/custom/send")]
    assert sent == ["oForgotten"]
    assert await channel.recover() == 0 and await channel.redis.hlen(PENDING) == 0
