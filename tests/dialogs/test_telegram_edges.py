"""R5.4-1 (issue 14 rough edges) on Telegram: voice without recognition, audio, documents, stickers and
video get a polite answer in the shopper's script; ``/start`` from a ``zh-hans`` user is answered in
zh-Hans; one English word does not flip a Chinese shopper to English."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
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


SCRIPTS = [("zh-Hans", "zh-hans"), ("zh-Hant", "zh-hant"), ("en", "en")]
_USER_IDS = itertools.count(7300)


@dataclass(frozen=True)
class ShopperChat:
    """One Telegram shopper whose client sends ``language_code`` ``code``, talking to the real webhook;
    ``lang`` is the script the bot must answer in."""

    lang: str
    conv: Conversation
    shopper: Shopper


@pytest.fixture(params=SCRIPTS, ids=[lang for lang, _ in SCRIPTS])
def chat(
    request: pytest.FixtureRequest,
    client: Client,  # noqa: F811
    channel: TelegramChannel,  # noqa: F811
    session: RecordingSession,  # noqa: F811
) -> ShopperChat:
    """A fresh private chat per test, once per script (each test checks all three scripts)."""
    lang, code = request.param
    return ShopperChat(lang, Conversation(client, channel, session), Shopper(next(_USER_IDS), lang=code))


async def test_media_without_words_gets_a_polite_answer(chat: ShopperChat) -> None:
    conv, shopper = chat.conv, chat.shopper
    for kind, (content, key) in MEDIA.items():
        await conv.post(shopper.message(**content))
        assert TEXTS.get(chat.lang, key) in conv.text, (kind, conv.text)


@pytest.mark.parametrize("chat", [SCRIPTS[0]], ids=["zh-Hans"], indirect=True)
async def test_start_from_a_zh_hans_user_and_one_english_word(chat: ShopperChat) -> None:
    conv, shopper = chat.conv, chat.shopper
    await conv.post(shopper.text("/start"))
    zh_start = (TEXTS.get("zh-Hans", "greet.hello")[:10], TEXTS.get("zh-Hans", "help.text")[:10])
    assert any(start in conv.text for start in zh_start), conv.text
    await conv.post(shopper.text("thanks"))
    assert TEXTS.get("zh-Hans", "thanks.welcome") in conv.text, conv.text
    await conv.post(shopper.text("ok"))
    assert not any(ch.isascii() and ch.isalpha() for ch in conv.text.replace("Telegram", "")[:20]), conv.text


async def test_start_and_one_english_word_keep_the_users_script(chat: ShopperChat) -> None:
    """/start is answered in the script of the user's language_code; a Chinese shopper's "thanks"
    (one English word) is answered in their script still."""
    conv, shopper, lang = chat.conv, chat.shopper, chat.lang
    await conv.post(shopper.text("/start"))
    starts = (TEXTS.get(lang, "greet.hello")[:10], TEXTS.get(lang, "help.text")[:10])
    assert any(start in conv.text for start in starts), conv.text
    await conv.post(shopper.text("thanks"))
    assert TEXTS.get(lang, "thanks.welcome") in conv.text, conv.text


async def test_a_callback_with_unknown_data_is_answered_in_the_users_script(chat: ShopperChat) -> None:
    """The tap is acknowledged (answerCallbackQuery, so the client stops spinning) and the shopper is
    told the button is out of date, in their own script."""
    conv, shopper = chat.conv, chat.shopper
    for data, key in (("v2|p:D1", "payload.expired"), ("t|p:D1\x00", "payload.invalid")):
        await conv.post(shopper.tap(data))
        methods = [c.method for c in conv.last]
        assert methods[0] == "answerCallbackQuery" and "sendMessage" in methods, (data, methods)
        assert TEXTS.get(chat.lang, key) in conv.text, (data, conv.text)
