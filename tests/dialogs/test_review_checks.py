"""R5.3-1 (issue 14): a review comment goes through the listing checks, but a shopper's words are not
an advertisement. Ordinal 第一 ("第一次买", "第一天", "第一時間") is ordinary Chinese anywhere; a
superlative (最喜欢, 绝对值得, "the best dress I have bought") is an opinion in a comment and a claim in
a listing; ad copy and health claims (全网最好, 國家級, "best in the world", "cures") are found in both.
Checked on the pure functions both ways, and through the conversation: "第一次买，很满意" is
published at once in three scripts while "全网最好" still waits for staff."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.runtime import Runtime
from commerce_core.catalog.checks import (
    CheckContext,
    ListingFacts,
    advertising_terms,
    check_comment,
    check_listing,
)
from commerce_core.clock import FakeClock
from dialogs.texts import load_texts
from tests.dialogs.conftest import Chat
from tests.dialogs.test_reviews import card_text, delivered_order

TEXTS = load_texts()

#: (text, terms a listing's description is flagged for, terms a review comment is flagged for)
BOTH_WAYS: list[tuple[str, list[str], list[str]]] = [
    ("第一次买，很满意", [], []),
    ("第一次買，很滿意", [], []),
    ("第一天穿就收到好多夸奖", [], []),
    ("第一時間發貨，包裝很好", [], []),
    ("the first time I ordered here, arrived in 3 days", [], []),
    ("best purchase I made this year", [], []),
    ("最喜欢这件，颜色很正", ["最"], []),
    ("最喜歡這件", ["最"], []),
    ("绝对值得买，唯一的缺点是有点长", ["绝对", "唯一"], []),
    ("the best dress I have bought", ["the best"], []),
    ("销量第一的连衣裙", ["第一"], []),
    ("全网最好的衣服", ["全网最好"], ["全网最好"]),
    ("國家級品質", ["國家級"], ["國家級"]),
    ("The best in the world!", ["best in the world", "the best"], ["best in the world"]),
    ("This cream cures acne", ["cures"], ["cures"]),
]


@pytest.mark.parametrize(("text", "listing", "comment"), BOTH_WAYS)
def test_comments_are_opinions_listings_are_claims(text: str, listing: list[str], comment: list[str]) -> None:
    """R5.3-1 / R4.3-3: the same words, checked as a listing and as a shopper's comment."""
    assert advertising_terms(text) == listing
    facts = ListingFacts("dresses", {"zh-Hans": "连衣裙"}, {"zh-Hans": text}, {}, (), ("/a.jpg",), (19900,))
    flagged = [
        f.detail for f in check_listing(facts, CheckContext(required=())) if f.code == "advertising_terms"
    ]
    assert flagged == ([", ".join(listing)] if listing else [])
    findings = [f.detail for f in check_comment(text) if f.code == "advertising_terms"]
    assert findings == ([", ".join(comment)] if comment else [])


FIRST_TIME = {
    "zh-Hans": "第一次买，很满意，最喜欢这个颜色",
    "zh-Hant": "第一次買，很滿意，最喜歡這個顏色",
    "en": "The first time I bought here and the best purchase I made",
}


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant", "en"])
async def test_a_first_time_comment_is_published_at_once(
    lang: str, chat_factory: Callable[..., Chat], runtime: Runtime, clock: FakeClock
) -> None:
    """R5.3-1: an ordinary comment shows on the card straight away, no staff needed."""
    commerce = runtime.container.commerce
    user = f"rv-first-{lang}"
    await delivered_order(commerce, clock, user, lang, "D3-BLU-M")
    chat = chat_factory(user, lang)
    await chat.tap("rvs:D3:5")
    await chat.say(FIRST_TIME[lang])
    assert TEXTS.get(lang, "reviews.thanks") in chat.text, chat.text
    assert TEXTS.get(lang, "reviews.held") not in chat.text
    assert await commerce.product_reviews.held() == []
    browser = chat_factory(f"rv-first-browser-{lang}", lang)
    await browser.tap("p:D3")
    assert FIRST_TIME[lang] in card_text(browser)
