"""WeChat never marks a failed message as seen: the answer is a 503 and WeChat's own retry (the same
MsgId) is processed again and answered; a retry of an answered message gets the same answer."""

from __future__ import annotations

from typing import Any

import xmltodict

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
