"""The language of a WeChat conversation's first message (issue 14's leftover; R1.2 languages).

WeChat names no user's language (every user comes with the channel's "zh"), so a first message that
is only a product's English name used to be answered in Simplified Chinese. Now Latin script made
only of the catalogue's English words (and common English words) answers in English; a brand, a
synonym or pinyin alone keeps the Chinese default; Chinese in either script is answered in it; and a
Telegram user whose app says Chinese keeps Chinese for the same English name.
"""

from __future__ import annotations

from bot.runtime import Runtime
from dialogs.messages import InboundMessage
from nlu import SAMPLE_CATALOGUE
from nlu.english import EnglishVocabulary
from tests.wechat.conftest import WeChatWorld, world  # noqa: F401


async def _language(runtime: Runtime, channel: str, user: str) -> str | None:
    return (await runtime.commerce.customers.identify(channel, user)).language


async def test_a_first_wechat_message_in_three_languages(world: WeChatWorld) -> None:  # noqa: F811
    o, runtime = world.official, world.runtime
    answer = await o.say("oEnName", "Red Floral Dress")
    assert "Red Floral Dress" in answer and "红色碎花连衣裙" not in answer, answer
    assert await _language(runtime, "wechat", "oEnName") == "en"
    await o.say("oEnPhrase", "little black dress please")
    assert await _language(runtime, "wechat", "oEnPhrase") == "en"

    # a brand, a synonym no English name uses, pinyin: no evidence, the Chinese default stays
    for user, text in (("oBrand", "Lumi"), ("oSynonym", "sundress"), ("oPinyin", "lianyiqun hongse")):
        answer = await o.say(user, text)
        assert await _language(runtime, "wechat", user) == "zh-Hans", (text, answer)
    answer = await o.say("oHans", "有红色碎花连衣裙吗")
    assert "红色碎花连衣裙" in answer and await _language(runtime, "wechat", "oHans") == "zh-Hans"
    answer = await o.say("oHant", "有紅色碎花連衣裙嗎")
    assert "紅色碎花連衣裙" in answer and await _language(runtime, "wechat", "oHant") == "zh-Hant"

    # a later message does not switch a Chinese conversation on two English words
    await o.say("oHans", "red dress")
    assert await _language(runtime, "wechat", "oHans") == "zh-Hans"

    # Telegram's hint is the user's own app language: the English name does not overrule it
    message = InboundMessage("telegram", "9301", "9301", "Red Floral Dress", language_hint="zh-hans")
    replies = await runtime.pipeline.handle(message)
    assert "红色碎花连衣裙" in "\n".join(r.text for r in replies), replies
    assert await _language(runtime, "telegram", "9301") == "zh-Hans"


def test_plain_english_needs_the_catalogues_english_words() -> None:
    english = EnglishVocabulary(SAMPLE_CATALOGUE)
    assert english.is_plain_english("Floral Midi Dress")
    assert english.is_plain_english("a canvas backpack please")
    assert english.is_plain_english("fitness tracker")
    assert not english.is_plain_english("AirPods Pro")  # the Chinese name uses it too
    assert not english.is_plain_english("ultraboost")  # one word, and a model name
    assert not english.is_plain_english("Nike Pegasus")  # a brand
    assert not english.is_plain_english("xiaomi shouhuan")  # a brand and pinyin
    assert not english.is_plain_english("please thanks")  # no catalogue word
    assert not english.is_plain_english("dress 连衣裙")  # Chinese in it
