"""R5.4-1 (issue 14 rough edges) on Telegram: voice without recognition, audio, documents, stickers and
video get a polite answer in the shopper's script; ``/start`` from a ``zh-hans`` user is answered in
zh-Hans; one English word does not flip a Chinese shopper to English."""

from __future__ import annotations

from typing import Any

import pytest

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.session import RecordingSession
from dialogs.texts import load_texts
from tests.telegram.conftest import Shopper, channel, client, db_url, runtime, session, timer  # noqa: F401
from tests.telegram.test_purchase import Client, Conversation

TEXTS = load_texts()
MEDIA: dict[str, tuple[dict[str, Any], str]] = {
    "voice": ({"voice": {"file_id": "v1", "file_unique_id": "uv1", "duration": 3}}, "media.voice"),
    "audio": ({"audio": {"file_id": "a1", "file_unique_id": "ua1", "duration": 30}}, "media.other"),
    "document": (
        {"document": {"file_id": "d1", "file_unique_id": "ud1", "file_name": "x.pdf"}},
        "media.other",
    ),
    "sticker": (
        {
            "sticker": {
                "file_id": "s1",
                "file_unique_id": "us1",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            }
        },
        "media.other",
    ),
    "video": (
        {"video": {"file_id": "m1", "file_unique_id": "um1", "width": 640, "height": 480, "duration": 5}},
        "media.other",
    ),
}


@pytest.mark.parametrize(("lang", "code"), [("zh-Hans", "zh-hans"), ("zh-Hant", "zh-hant"), ("en", "en")])
async def test_media_without_words_gets_a_polite_answer(
    lang: str,
    code: str,
    client: Client,  # noqa: F811
    channel: TelegramChannel,  # noqa: F811
    session: RecordingSession,  # noqa: F811
) -> None:
    conv = Conversation(client, channel, session)
    shopper = Shopper(7300 + len(lang), lang=code)
    for kind, (content, key) in MEDIA.items():
        await conv.post(shopper.message(**content))
        assert TEXTS.get(lang, key) in conv.text, (kind, conv.text)


async def test_start_from_a_zh_hans_user_and_one_english_word(
    client: Client,  # noqa: F811
    channel: TelegramChannel,  # noqa: F811
    session: RecordingSession,  # noqa: F811
) -> None:
    conv = Conversation(client, channel, session)
    shopper = Shopper(7401, lang="zh-hans")
    await conv.post(shopper.text("/start"))
    zh_start = (TEXTS.get("zh-Hans", "greet.hello")[:10], TEXTS.get("zh-Hans", "help.text")[:10])
    assert any(start in conv.text for start in zh_start), conv.text
    await conv.post(shopper.text("thanks"))
    assert TEXTS.get("zh-Hans", "thanks.welcome") in conv.text, conv.text
    await conv.post(shopper.text("ok"))
    assert not any(ch.isascii() and ch.isalpha() for ch in conv.text.replace("Telegram", "")[:20]), conv.text


@pytest.mark.parametrize(("lang", "code"), [("zh-Hans", "zh-hans"), ("zh-Hant", "zh-hant"), ("en", "en")])
async def test_start_and_one_english_word_keep_the_users_script(
    lang: str,
    code: str,
    client: Client,  # noqa: F811
    channel: TelegramChannel,  # noqa: F811
    session: RecordingSession,  # noqa: F811
) -> None:
    """/start is answered in the script of the user's language_code; a Chinese shopper's "thanks"
    (one English word) is answered in their script still."""
    conv = Conversation(client, channel, session)
    shopper = Shopper(7410 + len(lang), lang=code)
    await conv.post(shopper.text("/start"))
    starts = (TEXTS.get(lang, "greet.hello")[:10], TEXTS.get(lang, "help.text")[:10])
    assert any(start in conv.text for start in starts), conv.text
    await conv.post(shopper.text("thanks"))
    assert TEXTS.get(lang, "thanks.welcome") in conv.text, conv.text


@pytest.mark.parametrize(("lang", "code"), [("zh-Hans", "zh-hans"), ("zh-Hant", "zh-hant"), ("en", "en")])
async def test_a_callback_with_unknown_data_is_answered_in_the_users_script(
    lang: str,
    code: str,
    client: Client,  # noqa: F811
    channel: TelegramChannel,  # noqa: F811
    session: RecordingSession,  # noqa: F811
) -> None:
    """The tap is acknowledged (answerCallbackQuery, so the client stops spinning) and the shopper is
    told the button is out of date, in their own script."""
    conv = Conversation(client, channel, session)
    shopper = Shopper(7420 + len(lang), lang=code)
    for data, key in (("v2|p:D1", "payload.expired"), ("t|p:D1\x00", "payload.invalid")):
        await conv.post(shopper.tap(data))
        methods = [c.method for c in conv.last]
        assert methods[0] == "answerCallbackQuery" and "sendMessage" in methods, (data, methods)
        assert TEXTS.get(lang, key) in conv.text, (data, conv.text)
