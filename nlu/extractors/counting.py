"""Quantities ("两件", "x3", "2 of", "a couple") and ordinal references ("第二个", "the last one").

Value formats: a quantity is a positive ``int``; an ordinal is ``{"ordinal": n}`` where ``n`` counts
from 1 in the list the bot showed last, negative numbers count from the end (``-1`` = the last one,
``-2`` = the one before it) and ``0`` means "the one we are talking about" ("that one", "这件").
"""

from __future__ import annotations

import re

from nlu.extractors.base import Candidate
from nlu.numbers import CN_NUM, EN_NUM, HAS_NUMBER_WORD, HAS_NUMERAL, NOT_AFTER_NUMBER, parse_number

MAX_QUANTITY = 9999

_CN_UNIT = "个|件|条|双|只|盒|瓶|包|套|台|份|箱|支|把|顶|本|张|部|副|对|袋|罐|听|杯|片|斤|公斤|打|组|款|样"
_QTY_CN = re.compile(rf"(?<!第){NOT_AFTER_NUMBER}(\d{{1,4}}|{CN_NUM})\s*(?:{_CN_UNIT})")
_QTY_CN_LABEL = re.compile(rf"(?:数量|件数|个数)\s*(?:改成|改为|换成|为|是|:)?\s*(\d{{1,4}}|{CN_NUM})")
_QTY_TIMES = re.compile(
    r"(?:(?<![a-z0-9])[x×*]\s*(\d{1,4})(?![\d.]))|(?:(?<![\d.])(\d{1,4})\s*[x×](?![a-z0-9]))"
)
_QTY_EN = re.compile(
    rf"(?<![a-z0-9.$¥€£])(\d{{1,4}}|{EN_NUM})\s+(?:of\b|pcs\b|pieces?\b|units?\b|items?\b|pairs?\b|"
    r"more\b|sets?\b|packs?\b|boxes\b|bottles?\b|copies\b)"
)
_QTY_EN_VERB = re.compile(
    rf"\b(?:add|buy|get|order|take|want|need|grab|put|give me|make it|change it to|set it to|reduce it to|"
    rf"reduce to|increase it to|increase to|i'll have|i'd like|just|(?:qty|quantity)(?: to| of| is)?)\s*:?\s+"
    rf"({EN_NUM}|\d{{1,4}})(?![\d.%$])(?!\s*(?:dollars?|bucks|usd|rmb|yuan|元|块|%|xl|cm|kg))"
)
_COUPLE = re.compile(r"\ba couple(?: of)?\b|\ba few\b|\ba dozen\b")

_ORD_EN_WORDS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "1st": 1,
    "2nd": 2,
    "3rd": 3,
}
_ORD_EN = r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|\d{1,2}(?:st|nd|rd|th))"
_NOUN_EN = r"(?:one|ones|item|option|product|choice|pair|dress|shirt|shoes?|model|color|colour|link|result)"
_ORDINAL_EN = re.compile(
    rf"\b(?:the\s+)?({_ORD_EN})\s+(?:to\s+)?(last\b)?\s*{_NOUN_EN}\b"
    rf"|\bthe\s+({_ORD_EN})(?:\s+(?:to\s+)?(last))?(?=\s*(?:$|[,.!?;]|please|pls|plz|in\b|is\b|and\b|or\b))"
    rf"|\b(?:the\s+)?(last)\s+{_NOUN_EN}\b|\bthe\s+(last)(?=\s*(?:$|[,.!?;]|please|pls|plz|is\b|in\b))"
    r"|(?:\boption|\bitem|\bnumber|\bno\.|#)\s*(\d{1,2})\b"
)
_THAT_EN = re.compile(r"\b(?:that|this)\s+(?:one|item|pair|dress|shirt)\b")

_CN_ORD_UNIT = "个|件|款|条|只|双|张|种|项|样|套|台|部|本|号|位|行"
_ORDINAL_CN = re.compile(
    rf"(倒数)?第\s*(\d{{1,2}}|{CN_NUM})\s*(?:{_CN_ORD_UNIT})?|最后\s*(?:一|那)?\s*(?:{_CN_ORD_UNIT})|最后那?一?(?:{_CN_ORD_UNIT})"
)
_THAT_CN = re.compile(
    r"(?:这|那)一?(?:个|件|款|双|条|套)(?=$|[\s,.!?~吧呢吗啊呀了好可有还的是多怎就也能要不在加删换拿放来给买])"
)

_MAY_BE_ORDINAL = re.compile(rf"第|最后|{_ORD_EN}|last|\d|that|this|这|那")
"""Something every ordinal pattern needs (a digit covers "option 2", "#3"): text without any skips the
patterns."""
_LATIN_LETTER = re.compile("[a-z]")
"""What the English quantity and ordinal patterns need (with "#" for "#3"): Chinese text skips them."""
_MAY_BE_TIMES = re.compile("[x×*]")
"""What "x3" and "3x" need."""
_MAY_BE_ENGLISH_ORDINAL = re.compile("[a-z#]")


def _quantity(raw: str) -> int | None:
    value = parse_number(raw)
    if value is None or value != int(value) or not 1 <= value <= MAX_QUANTITY:
        return None
    return int(value)


def quantities(text: str) -> list[Candidate]:
    """Quantities the shopper asks for; value is an ``int`` in 1..9999."""
    out: list[Candidate] = []
    if not HAS_NUMERAL.search(text) and not HAS_NUMBER_WORD.search(text):  # all patterns need a number
        return out
    latin = _LATIN_LETTER.search(text) is not None  # the English patterns need a word
    for pattern in (_QTY_CN, _QTY_EN) if latin else (_QTY_CN,):
        for m in pattern.finditer(text):
            q = _quantity(m.group(1))
            if q is not None:
                out.append(Candidate("quantity", q, m.start(), m.end()))
    for pattern in (_QTY_CN_LABEL, _QTY_EN_VERB) if latin else (_QTY_CN_LABEL,):
        for m in pattern.finditer(text):  # the span is the number, not the verb or label before it
            q = _quantity(m.group(1))
            if q is not None:
                out.append(Candidate("quantity", q, m.start(1), m.end(1)))
    for m in _QTY_TIMES.finditer(text) if _MAY_BE_TIMES.search(text) else ():
        q = _quantity(m.group(1) or m.group(2))
        if q is not None:
            out.append(Candidate("quantity", q, m.start(), m.end()))
    if not latin:
        return out
    for m in _COUPLE.finditer(text):
        q = _quantity(m.group().removesuffix(" of"))
        if q is not None:
            out.append(Candidate("quantity", q, m.start(), m.end()))
    return out


def _ord_value(raw: str) -> int | None:
    if raw in _ORD_EN_WORDS:
        return _ORD_EN_WORDS[raw]
    digits = raw.rstrip("stndrh")
    value = parse_number(digits)
    if value is None or value != int(value) or not 1 <= value <= 99:
        return None
    return int(value)


def ordinals(text: str) -> list[Candidate]:
    """References to an item in a shown list; value ``{"ordinal": n}`` (see module docstring)."""
    out: list[Candidate] = []
    if not _MAY_BE_ORDINAL.search(text):
        return out
    for m in _ORDINAL_CN.finditer(text):
        cn = -1 if m.group(2) is None else _ord_value(m.group(2))
        if cn is not None:
            out.append(Candidate("ordinal", {"ordinal": -cn if m.group(1) else cn}, m.start(), m.end()))
    english = _MAY_BE_ENGLISH_ORDINAL.search(text) is not None
    for m in _ORDINAL_EN.finditer(text) if english else ():
        ordinal, to_last, ordinal2, to_last2, last, last2, number = m.groups()
        if last or last2:
            n: int | None = -1
        elif number:
            n = _ord_value(number)
        else:
            n = _ord_value(ordinal or ordinal2)
            if n is not None and (to_last or to_last2):
                n = -n
        if n is not None:
            out.append(Candidate("ordinal", {"ordinal": n}, m.start(), m.end()))
    for pattern in (_THAT_EN, _THAT_CN) if english else (_THAT_CN,):
        out.extend(Candidate("ordinal", {"ordinal": 0}, m.start(), m.end()) for m in pattern.finditer(text))
    return out
