"""Every tap on an inline button is answered, and a button the bot can no longer act on says why."""

from __future__ import annotations

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.session import RecordingSession
from dialogs.texts import load_texts
from tests.telegram.conftest import Shopper
from tests.telegram.test_purchase import Client, Conversation

TEXTS = load_texts()


async def test_expired_forged_and_malformed_buttons_get_an_answer_and_a_reason(
    client: Client, channel: TelegramChannel, session: RecordingSession
) -> None:
    conv = Conversation(client, channel, session)
    shopper = Shopper(7101, lang="en")
    cases = {
        "r|" + "ab" * 12: "payload.expired",  # a long payload whose Redis key has expired
        "v2|p:D1": "payload.expired",  # not our callback format
        "t|sku:D1-RED-M:²": "payload.invalid",  # ours, but the payload does not decode
        "t|addr:²": "payload.invalid",
        "t|p:D1\x00": "payload.invalid",
        "t|asline:1": "payload.stale",  # from an after-sales step that is over
    }
    for data, key in cases.items():
        await conv.post(shopper.tap(data))
        methods = [c.method for c in conv.last]
        assert methods[0] == "answerCallbackQuery" and "sendMessage" in methods, data
        assert TEXTS.get("en", key) in conv.text, data
