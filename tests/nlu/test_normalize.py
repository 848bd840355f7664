from __future__ import annotations

import pytest

from nlu.lang import detect_language
from nlu.normalize import normalise
from nlu.numbers import parse_cn_numeral, parse_number


def test_fullwidth_case_and_traditional_are_folded_but_offsets_point_to_the_original() -> None:
    text = "這件有ＸＬ碼嗎？"
    nt = normalise(text)
    assert nt.text == "这件有xl码吗?"
    start = nt.text.index("xl")
    s, e = nt.span(start, start + 2)
    assert text[s:e] == "ＸＬ"


def test_expanding_characters_keep_offsets_consistent() -> None:
    text = "ﬁne ① 紅"
    nt = normalise(text)
    assert nt.text.startswith("fine 1")
    s, e = nt.span(nt.text.index("红"), nt.text.index("红") + 1)
    assert text[s:e] == "紅"


def test_control_characters_and_lone_surrogates_become_spaces() -> None:
    nt = normalise("a\x00b\ud800c")
    assert nt.text == "a b c"
    assert len(nt.origin) == len(nt.text)


@pytest.mark.parametrize(
    ("text", "lang", "mixed"),
    [
        ("这件有M码吗", "zh-Hans", False),
        ("這件有沒有紅色", "zh-Hant", False),
        ("2 of the red ones pls", "en", False),
        ("我想买 Nike 的 running shoes", "zh-Hans", True),
        ("where is my order SB7K3M9Q2XAB", "en", False),
        ("can I pay with 支付宝 please", "en", True),
    ],
)
def test_language_detection(text: str, lang: str, mixed: bool) -> None:
    guess = detect_language(text)
    assert (guess.lang, guess.mixed) == (lang, mixed)


def test_language_hint_decides_when_the_text_has_no_words() -> None:
    assert detect_language("2", hint="zh-Hant").lang == "zh-Hant"
    assert detect_language("👍", hint="zh-Hans").lang == "zh-Hans"
    assert detect_language("2").lang == "en"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("两", 2),
        ("三", 3),
        ("十", 10),
        ("十二", 12),
        ("二十五", 25),
        ("一百零五", 105),
        ("三千五", 3500),
        ("两万", 20000),
    ],
)
def test_chinese_numerals(text: str, value: int) -> None:
    assert parse_cn_numeral(text) == value


def test_number_forms() -> None:
    assert parse_number("1,299") == 1299
    assert parse_number("2k") == 2000
    assert parse_number("1.5万") == 15000
    assert parse_number("a couple") == 2
    assert parse_number("banana") is None


def test_absurdly_long_numerals_are_not_numbers() -> None:
    assert parse_cn_numeral("一" * 40) is None
    assert parse_number("9" * 400) is None
