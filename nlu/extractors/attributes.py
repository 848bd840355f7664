"""Colours and sizes, mapped to canonical codes the catalogue uses.

Colour codes: red, orange, yellow, green, blue, navy, purple, pink, white, black, grey, brown, beige,
gold, silver, multicolor. A single Chinese colour character only counts with "色" or "的" after it
("红色", "红的") because on its own it hides inside other words (金额 is an amount, 白天 is daytime).

Size values: letter sizes ``XS S M L XL XXL 3XL 4XL``; ``ONE_SIZE`` for 均码/one-size; shoe sizes as
the EU number in a string (``"42"``, ``"42.5"``). A lone S/M/L needs help to be a size: upper case in
the original message, a "码/号/size" beside it, or the dialog asking for a size.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from nlu.extractors.base import Candidate

_ZH_COLOUR_CHARS = {
    "红": "red",
    "橙": "orange",
    "橘": "orange",
    "黄": "yellow",
    "绿": "green",
    "蓝": "blue",
    "紫": "purple",
    "粉": "pink",
    "白": "white",
    "黑": "black",
    "灰": "grey",
    "棕": "brown",
    "褐": "brown",
    "金": "gold",
    "银": "silver",
    "青": "green",
    "咖": "brown",
    "米": "beige",
}
_ZH_COLOUR_WORDS = {
    "藏青": "navy",
    "藏蓝": "navy",
    "海军蓝": "navy",
    "深蓝": "navy",
    "宝蓝": "blue",
    "天蓝": "blue",
    "浅蓝": "blue",
    "湖蓝": "blue",
    "酒红": "red",
    "大红": "red",
    "玫红": "pink",
    "粉红": "pink",
    "桃红": "pink",
    "橘红": "orange",
    "橘黄": "orange",
    "柠檬黄": "yellow",
    "鹅黄": "yellow",
    "军绿": "green",
    "墨绿": "green",
    "草绿": "green",
    "浅绿": "green",
    "薄荷绿": "green",
    "紫罗兰": "purple",
    "香芋紫": "purple",
    "雪白": "white",
    "米白": "beige",
    "象牙白": "white",
    "乳白": "white",
    "纯白": "white",
    "黑白": "multicolor",
    "纯黑": "black",
    "炭黑": "black",
    "深灰": "grey",
    "浅灰": "grey",
    "烟灰": "grey",
    "咖啡": "brown",
    "卡其": "beige",
    "驼色": "beige",
    "杏色": "beige",
    "奶茶色": "beige",
    "金色": "gold",
    "香槟金": "gold",
    "玫瑰金": "gold",
    "银色": "silver",
    "银灰": "silver",
    "彩色": "multicolor",
    "多色": "multicolor",
    "花色": "multicolor",
    "撞色": "multicolor",
    "拼色": "multicolor",
    "七彩": "multicolor",
}
_EN_COLOURS = {
    "red": "red",
    "reddish": "red",
    "redish": "red",
    "crimson": "red",
    "scarlet": "red",
    "burgundy": "red",
    "maroon": "red",
    "wine red": "red",
    "orange": "orange",
    "orangey": "orange",
    "yellow": "yellow",
    "mustard": "yellow",
    "green": "green",
    "greenish": "green",
    "olive": "green",
    "khaki green": "green",
    "blue": "blue",
    "bluish": "blue",
    "blueish": "blue",
    "sky blue": "blue",
    "light blue": "blue",
    "royal blue": "blue",
    "navy": "navy",
    "navy blue": "navy",
    "dark blue": "navy",
    "purple": "purple",
    "violet": "purple",
    "lilac": "purple",
    "lavender": "purple",
    "pink": "pink",
    "pinkish": "pink",
    "white": "white",
    "off-white": "white",
    "ivory": "white",
    "black": "black",
    "grey": "grey",
    "gray": "grey",
    "greyish": "grey",
    "charcoal": "grey",
    "brown": "brown",
    "beige": "beige",
    "khaki": "beige",
    "gold": "gold",
    "golden": "gold",
    "rose gold": "gold",
    "silver": "silver",
    "multicolor": "multicolor",
    "multicolour": "multicolor",
    "multi-color": "multicolor",
    "multi-colour": "multicolor",
    "rainbow": "multicolor",
    "colorful": "multicolor",
    "colourful": "multicolor",
}

_ZH_WORDS_RE = "|".join(sorted(_ZH_COLOUR_WORDS, key=len, reverse=True))
_ZH_CHARS_RE = "".join(_ZH_COLOUR_CHARS)
_COLOUR_ZH = re.compile(rf"(?:{_ZH_WORDS_RE})色?|[{_ZH_CHARS_RE}]色|[红橙黄绿蓝紫粉白黑灰棕]的")
_COLOUR_ZH_BARE = re.compile(rf"(?:{_ZH_WORDS_RE})|[{_ZH_CHARS_RE}]")
_COLOUR_EN = re.compile(
    r"(?<![a-z])(?:" + "|".join(sorted(map(re.escape, _EN_COLOURS), key=len, reverse=True)) + r")(?![a-z])"
)

_LETTER = {
    "xxs": "XXS",
    "xs": "XS",
    "s": "S",
    "m": "M",
    "l": "L",
    "xl": "XL",
    "xxl": "XXL",
    "2xl": "XXL",
    "xxxl": "3XL",
    "3xl": "3XL",
    "4xl": "4XL",
    "xxxxl": "4XL",
}
_ZH_SIZE_WORDS = {
    "均码": "ONE_SIZE",
    "均碼": "ONE_SIZE",
    "free size": "ONE_SIZE",
    "one size": "ONE_SIZE",
    "one-size": "ONE_SIZE",
    "onesize": "ONE_SIZE",
    "加大号": "XL",
    "特大号": "XXL",
    "大号": "L",
    "大码": "XL",
    "中号": "M",
    "小号": "S",
    "小码": "S",
    "加大码": "XXL",
    "small": "S",
    "medium": "M",
    "large": "L",
    "extra large": "XL",
    "extra small": "XS",
    "x-large": "XL",
    "xx-large": "XXL",
}
_SIZE_WORD_RE = re.compile(
    r"(?<![a-z])(?:" + "|".join(sorted(map(re.escape, _ZH_SIZE_WORDS), key=len, reverse=True)) + r")(?![a-z])"
)
_MULTI_LETTER = re.compile(
    r"(?<![a-z0-9'])(xxxxl|xxxl|xxl|xxs|2xl|3xl|4xl|xl|xs)(?![a-z0-9])(?:\s*(?:码|号))?"
)
_LETTER_CTX = re.compile(
    r"(?:(?<![a-z])size|尺码|码数|尺寸)\s*:?\s*(s|m|l)(?![a-z0-9])|(?<![a-z0-9'])(s|m|l)\s*(?:码|号|size)"
)
_SINGLE = re.compile(r"(?<![a-z0-9'’])(s|m|l)(?![a-z0-9'’])")
_SHOE = re.compile(
    r"(?:(?:size|eu|尺码|鞋码|码数|穿)\s*:?\s*(3[5-9]|4[0-6])(\.5)?(?![\d.])(?:\s*(?:码|号))?)|"
    r"(?<![\d.])(3[5-9]|4[0-6])(\.5)?\s*(?:码|号|eu\b|的鞋)"
)
_BARE_SHOE = re.compile(r"(?<![\d.])(3[5-9]|4[0-6])(\.5)?(?![\d.])")
_SHOE_NUMBER = re.compile(r"3[5-9]|4[0-6]")
"""What both shoe-size patterns need: text without it skips them."""
_ZH_COLOUR_START = re.compile(
    "["
    + "".join(
        sorted({w[0] for w in _ZH_COLOUR_WORDS} | set(_ZH_COLOUR_CHARS) | set("红橙黄绿蓝紫粉白黑灰棕"))
    )
    + "]"
)
"""A character every Chinese colour match starts with: text without one skips those patterns."""
_LATIN_LETTER = re.compile("[a-z]")
_MAY_BE_ZH_SIZE_WORD = re.compile("[码碼号]")
"""Every Chinese size word ends in one of these; the others are English: text with neither skips
``_SIZE_WORD_RE``."""
assert all(w[-1] in "码碼号" or w.isascii() for w in _ZH_SIZE_WORDS)


def colours(text: str, expecting: bool = False) -> list[Candidate]:
    """Colour mentions; ``expecting`` (the dialog asked for a colour) also accepts a bare "红"."""
    out: list[Candidate] = []
    matches = []
    if _ZH_COLOUR_START.search(text):
        matches = list(_COLOUR_ZH.finditer(text))
        if expecting:
            matches += _COLOUR_ZH_BARE.finditer(text)
    for m in matches:
        word = m.group()
        key = word.rstrip("色的") if word not in _ZH_COLOUR_WORDS else word
        code = _ZH_COLOUR_WORDS.get(key) or _ZH_COLOUR_WORDS.get(word) or _ZH_COLOUR_CHARS.get(key[:1])
        if code:
            out.append(Candidate("color", code, m.start(), m.end()))
    if not _LATIN_LETTER.search(text):
        return out
    for m in _COLOUR_EN.finditer(text):
        out.append(Candidate("color", _EN_COLOURS[m.group()], m.start(), m.end()))
    return out


def sizes(text: str, typed_upper: Callable[[int], bool], expecting: bool = False) -> list[Candidate]:
    """Size mentions. ``typed_upper(i)`` says whether the user typed normalised character ``i`` in
    upper case (a lone "M" is a size, the "m" of "I'm" is not); it is a function because only a lone
    letter ever needs asking, and building that answer for every character cost more than the rest."""
    latin = _LATIN_LETTER.search(text) is not None
    out = (
        [
            Candidate("size", _ZH_SIZE_WORDS[m.group()], m.start(), m.end())
            for m in _SIZE_WORD_RE.finditer(text)
        ]
        if latin or _MAY_BE_ZH_SIZE_WORD.search(text)
        else []
    )
    if latin:  # letter sizes
        out.extend(
            Candidate("size", _LETTER[m.group(1)], m.start(), m.end()) for m in _MULTI_LETTER.finditer(text)
        )
        for m in _LETTER_CTX.finditer(text):
            letter = m.group(1) or m.group(2)
            out.append(Candidate("size", _LETTER[letter], m.start(), m.end()))
        for m in _SINGLE.finditer(text):
            if expecting or typed_upper(m.start()):
                out.append(Candidate("size", _LETTER[m.group(1)], m.start(), m.end()))
    if not _SHOE_NUMBER.search(text):
        return out
    for m in _SHOE.finditer(text):
        number = m.group(1) or m.group(3)
        half = m.group(2) or m.group(4) or ""
        out.append(Candidate("size", number + half, m.start(), m.end()))
    if expecting:
        out.extend(
            Candidate("size", m.group(1) + (m.group(2) or ""), m.start(), m.end())
            for m in _BARE_SHOE.finditer(text)
        )
    return out
