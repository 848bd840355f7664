"""Issue 16 (NLU cost per message): patterns are skipped when the text lacks a word they need, and
segmentations and n-grams are remembered. Each test checks the shortcut against the slow rule: every
pattern run on every text, nothing remembered."""

from __future__ import annotations

import random
import re

import jieba
import pytest

from nlu import SAMPLE_CATALOGUE
from nlu.extractors import EntityExtractor, attributes, counting, price
from nlu.features import _han_grams, _latin_grams, features
from nlu.lang import detect_language
from nlu.normalize import REGIONAL_WORDS, is_simplified_only, is_traditional_only, normalise
from nlu.tokenize import SEGMENT_CACHE_CHARS, Tokenizer

_ALWAYS = re.compile("")
"""A gate that lets every text through: the code as it was before the gates."""

_GATES = [
    (price, "_MAY_BE_RANGE"),
    (price, "_MAY_BE_MAX"),
    (price, "_MAY_BE_MIN"),
    (price, "_MAY_BE_ABOUT"),
    (price, "_MAY_HAVE_CURRENCY"),
    (counting, "_LATIN_LETTER"),
    (counting, "_MAY_BE_TIMES"),
    (counting, "_MAY_BE_ENGLISH_ORDINAL"),
    (attributes, "_LATIN_LETTER"),
    (attributes, "_MAY_BE_ZH_SIZE_WORD"),
]

_PIECES = (  # noqa: SIM905 - pieces read best as one string
    "2|3|12|100|1,299|99.5|2k|1.5万|两|三|十二|一百五|三千五|one|two|a couple|a few|a dozen|"
    "¥|$|us$|rmb|usd|€|£|块|元|块钱|美元|刀|dollars|bucks|euros|"
    "到|至|-|~|—|to|and|between|from|之间|左右|上下|以下|以内|内|封顶|以上|起|往上|or more|and up|+|"
    "under|below|less than|at most|up to|within|budget|max|不超过|不到|低于|最多|预算|便宜于|"
    "over|above|at least|starting at|min|不低于|高于|超过|至少|最低|"
    "around|about|roughly|approx|大概|大约|差不多|"
    "件|个|双|条|数量|pcs|pieces|pairs|of|x|×|*|add|buy|give me|i'd like|"
    "第|倒数第|最后|first|second|2nd|the last one|option|item|#|that one|这件|那个|"
    "s|m|l|M|L|xl|XXL|2xl|码|号|碼|size|尺码|均码|大号|小码|small|medium|large|one size|42|38.5|eu|穿|"
    "红色|藏青|酒红|咖啡|red|navy|blue|的|色|"
    "我要|有没有|帮我|please|pls|the|a|in|,|。|!|?"
).split("|")


def _texts(n: int) -> list[str]:
    rng = random.Random(16)
    out = []
    for _ in range(n):
        parts = rng.choices(_PIECES, k=rng.randint(1, 6))
        out.append(rng.choice(("", " ")).join(parts))
    return out


def _candidates(extractor: EntityExtractor, texts: list[str]) -> list[object]:
    return [extractor.candidates(normalise(t), slot) for t in texts for slot in (None, "size", "quantity")]


def test_skipping_patterns_finds_exactly_what_running_them_all_finds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Prices, quantities, ordinals and sizes: every candidate (type, value, span, order) is the same
    with the gates as with every pattern run on every text."""
    extractor = EntityExtractor(SAMPLE_CATALOGUE)
    texts = _texts(4000)
    fast = _candidates(extractor, texts)
    found = {c.type for cands in fast for c in cands}  # type: ignore[attr-defined]
    assert {"price", "quantity", "ordinal", "size", "color"} <= found
    for module, name in _GATES:
        monkeypatch.setattr(module, name, _ALWAYS)
    assert _candidates(extractor, texts) == fast


def test_language_counts_equal_the_character_rule() -> None:
    """Traditional and simplified characters are counted through a translation table; the verdicts
    equal counting with the per-character rule."""
    rng = random.Random(3)
    chars = "紅红這这個个帳账戶户資资訊讯的我你好是有没沒國国語语中文"
    for _ in range(2000):
        text = "".join(rng.choices(chars + "ab ", k=rng.randint(1, 12)))
        trad = sum(is_traditional_only(c) for c in text)
        simp = sum(is_simplified_only(c) and not is_traditional_only(c) for c in text)
        guess = detect_language(text, "zh-Hant" if trad == simp else None)
        if guess.lang != "en":
            assert guess.lang == ("zh-Hant" if trad >= simp else "zh-Hans"), text


def test_regional_words_are_still_folded_and_others_left_alone() -> None:
    """Taiwan words become the mainland ones; text without any is unchanged by the fold."""
    for word, mainland in REGIONAL_WORDS.items():
        assert normalise(f"我的{word}呢").text == f"我的{mainland}呢"
    assert normalise("我的订单呢").text == "我的订单呢"


def test_a_catalogue_word_added_later_is_kept_whole_in_a_message_seen_before() -> None:
    """Segmentations are remembered, but teaching jieba a new catalogue word forgets them: the same
    message is then split with the new word, as a fresh tokenizer would."""
    tokenizer = Tokenizer()
    text = "我想买星辰手环"
    assert "星辰手环" not in tokenizer.tokens(text)
    assert tokenizer.tokens(text) == tokenizer.tokens(text)
    tokenizer.add_terms(["星辰手环"])
    assert "星辰手环" in tokenizer.tokens(text)
    fresh = Tokenizer(["星辰手环"])
    assert tokenizer.tokens(text) == fresh.tokens(text)


def test_remembered_segmentations_equal_jieba_also_for_long_runs() -> None:
    """Short runs (remembered) and long ones (not) both segment as jieba does."""
    tokenizer = Tokenizer()
    reference = jieba.Tokenizer()
    reference.initialize()
    long_run = "我想买一件红色的连衣裙但是不知道尺码应该选多大才合适请帮我推荐一下谢谢你" * 2
    assert len(long_run) > SEGMENT_CACHE_CHARS
    for run in ("我的订单到哪了", long_run, "我的订单到哪了", long_run):
        assert tokenizer.tokens(run) == reference.lcut(run, HMM=True)


def test_remembered_ngrams_equal_fresh_ones() -> None:
    """Features of a message are the same the first and the second time, and built from the same
    n-grams as the uncached functions give."""
    tokenizer = Tokenizer()
    for text in (
        "any update on the parcel i ordered",
        "我的订单到哪了",
        "refund plz 退款",
        "supercalifragilistic 超长的一串中文字符测试用的句子",
    ):
        first = features(text, tokenizer)
        assert features(text, tokenizer) == first
        for word in re.findall("[a-z]+", text):
            assert all(g in first for g in _latin_grams(word))
        for run in re.findall("[\u4e00-\u9fff]+", text):
            assert all(g in first for g in _han_grams(run))
