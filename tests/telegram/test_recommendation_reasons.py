"""R5.3-2 on Telegram: a shopper who bought and viewed, then asks for recommendations, sees under each
recommended item why it is there, in the shopper's language, in the sendMessage payload itself; the
card opened from the list repeats it."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.render import e
from bot.channels.telegram.session import RecordingSession
from bot.runtime import Runtime
from tests.dialogs.reasons import RECOMMEND, VIEWED, buy_d1, expected
from tests.telegram.conftest import Shopper
from tests.telegram.test_purchase import Conversation

Client = TestClient[web.Request, web.Application]
LANGUAGE_CODES = {"zh-Hans": "zh-hans", "zh-Hant": "zh-hant", "en": "en"}


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant", "en"])
async def test_each_recommended_item_says_why_in_the_message(
    lang: str, client: Client, channel: TelegramChannel, session: RecordingSession, runtime: Runtime
) -> None:
    """R5.3-2: the reason is drawn in italics on the line under its item."""
    shopper = Shopper(user_id=7300 + len(lang), lang=LANGUAGE_CODES[lang])
    await buy_d1(runtime.commerce, "telegram", str(shopper.user["id"]), lang)
    conv = Conversation(client, channel, session)
    await conv.post(shopper.tap(f"t|p:{VIEWED}"))  # the card of the black dress: a view
    await conv.post(shopper.tap("t|orders"))  # away from the card: "recommend" is no longer "more like this"
    await conv.post(shopper.text(RECOMMEND[lang]))
    [listing] = [c for c in conv.last if c.method == "sendMessage" and "<i>" in str(c.params["text"])]
    lines = str(listing.params["text"]).split("\n")
    want = await expected(runtime.commerce, lang)
    for title, reason in want.values():
        [at] = [n for n, line in enumerate(lines) if e(title) in line and line[:1].isdigit()]
        assert lines[at + 1] == f"<i>{e(reason)}</i>", lines
    await conv.post(shopper.tap("t|p:D3"))  # its card, opened from the list, says why too
    assert f"<i>{e(want['D3'][1])}</i>" in conv.text, conv.text
