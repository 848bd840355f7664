"""Finding 6 on Telegram and WeChat: a user over the per-minute turn budget gets one polite answer in
their language, then silence for the rest of the minute; other users and the web are not affected."""

from __future__ import annotations

import dataclasses

import pytest

from bot.runtime import Runtime
from dialogs.messages import InboundMessage
from dialogs.texts import load_texts

TEXTS = load_texts()
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.mark.parametrize(("channel", "hint", "lang"), [("telegram", "en", "en"), ("wechat", None, "zh-Hant")])
async def test_a_flooding_user_is_told_politely_once(
    runtime: Runtime, channel: str, hint: str | None, lang: str
) -> None:
    pipeline = runtime.pipeline
    pipeline.config = dataclasses.replace(pipeline.config, chat_user_per_minute=3)

    async def send(user: str, n: int) -> list[str]:
        text = "hello" if lang == "en" else "這件有沒有紅色"  # the shopper's language is what they write
        message = InboundMessage(channel, user, user, text, dedup_key=f"{user}-{n}", language_hint=hint)
        return [r.text for r in await pipeline.handle(message)]

    answers = [await send("flooder", n) for n in range(6)]
    assert all(answers[n] for n in range(3))
    assert answers[3] == [TEXTS.get(lang, "flood.slow_down")]
    assert answers[4] == answers[5] == []
    assert await send("calm", 0)  # another user is served
    web = InboundMessage("web", "flooder", "flooder", "hello", dedup_key="w")
    assert await pipeline.handle(web)  # the web is limited at the HTTP edge, not here
