"""R5.3-2 on WeChat: a shopper who bought and viewed, then asks for recommendations, reads under each
recommended item why it is there, in the shopper's language, in the passive reply's text; the card
opened by its number repeats it (in the news article's description, or the text)."""

from __future__ import annotations

import pytest

from tests.dialogs.reasons import RECOMMEND, buy_d1, expected
from tests.wechat.conftest import WeChatWorld

VIEW = {"zh-Hans": "黑色小礼服", "zh-Hant": "黑色小禮服", "en": "little black dress"}
ORDERS = {"zh-Hans": "我的订单", "zh-Hant": "我的訂單", "en": "my orders"}


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant", "en"])
async def test_each_recommended_item_says_why_in_the_reply(lang: str, world: WeChatWorld) -> None:
    """R5.3-2: the numbered list keeps each item's reason on the line under it."""
    o, user = world.official, f"oRecs{lang.replace('-', '')}"
    await buy_d1(world.runtime.commerce, "wechat", user, lang)
    viewed = await o.say(user, VIEW[lang])
    assert "¥399.00" in viewed, viewed  # the black dress's card (or a list naming it)
    await o.say(user, ORDERS[lang])
    listing = await o.say(user, RECOMMEND[lang])
    lines = listing.split("\n")
    want = await expected(world.runtime.commerce, lang)
    for title, reason in want.values():
        at = next(n for n, line in enumerate(lines) if title in line and line[:1].isdigit())
        assert lines[at + 1].strip() == reason, lines
    number = next(line.split(".")[0] for line in reversed(lines) if want["D3"][0][:10] in line)  # its choice
    card = await o.say(user, number)  # the card, opened by its number, repeats why
    assert want["D3"][0] in card and want["D3"][1] in card, card
