"""R5.2-2 (issue 14): small talk gets a short friendly answer in the shopper's script and a nudge back
to shopping, by category; it never starts a shopping, order or hand-off flow."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dialogs.texts import load_texts
from tests.dialogs.conftest import Chat

TEXTS = load_texts()
CHAT: dict[str, dict[str, str]] = {
    "age": {"zh-Hans": "你今年几岁啦", "zh-Hant": "你今年幾歲啦", "en": "so how old are you?"},
    "joke": {"zh-Hans": "给我讲个笑话吧", "zh-Hant": "給我講個笑話吧", "en": "tell me a joke please"},
    "real": {"zh-Hans": "你是真人吗", "zh-Hant": "你是機器人嗎", "en": "wait, are you real?"},
    "insult": {"zh-Hans": "你好无聊啊", "zh-Hant": "你好無聊喔", "en": "you're boring"},
    "how_are_you": {"zh-Hans": "最近怎么样", "zh-Hant": "你最近過得好嗎", "en": "how are you doing today"},
    "love": {"zh-Hans": "我爱你", "zh-Hant": "我愛你", "en": "i love you bot"},
}


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant", "en"])
async def test_small_talk_answers_briefly_and_nudges_back(
    lang: str, chat_factory: Callable[..., Chat]
) -> None:
    for kind, by_lang in CHAT.items():
        chat = chat_factory(f"chitchat-{lang}-{kind}", lang)
        await chat.say(by_lang[lang])
        assert TEXTS.get(lang, f"smalltalk.{kind}") in chat.text, (kind, chat.text)
        assert TEXTS.get(lang, "smalltalk.nudge") in chat.text
        assert not chat.of_type("product_list") and not chat.of_type("handoff"), (kind, chat.text)
        assert [b["payload"] for b in chat.last[0]["buttons"]] == ["popular"]
