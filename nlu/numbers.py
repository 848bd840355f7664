"""Numbers written as digits, Chinese numerals (两, 十二, 一百零五, 三千五) or English words.

Quantities and prices arrive in all three forms; the extractors share these parsers and the regular
expression fragments below so that "两件", "2件" and "two" mean the same thing everywhere.
"""

from __future__ import annotations

import re

CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "俩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "壹": 1,
    "贰": 2,
    "叁": 3,
    "肆": 4,
    "伍": 5,
    "陆": 6,
    "柒": 7,
    "捌": 8,
    "玖": 9,
}
CN_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
CN_BIG = {"万": 10_000, "亿": 100_000_000}

CN_NUM = "[零〇一二两俩三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟]+"
"""Regular expression fragment for a Chinese numeral (normalised, i.e. simplified, text)."""

EN_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "hundred": 100,
    "a dozen": 12,
    "dozen": 12,
    "a couple": 2,
    "couple": 2,
    "a pair": 2,
    "a few": 3,
    "single": 1,
    "a": 1,
    "an": 1,
}
EN_NUM = (
    r"(?:a dozen|a couple|a few|dozen|couple|zero|one|two|three|four|five|six|seven|eight|"
    r"nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|"
    r"thirty|forty|fifty|hundred)"
)

MAX_NUMBER_CHARS = 16
"""Longer "numbers" (a run of 一, a pasted digit string) are not quantities or prices."""

HAS_NUMERAL = re.compile(r"[\d零〇一二两俩三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟]")
"""A digit or a Chinese numeral character: every price and most quantity patterns need one, so text
without any skips them (a single scan instead of a dozen backtracking patterns)."""
HAS_NUMBER_WORD = re.compile(EN_NUM)
"""An English number word anywhere (even inside a word): the English quantity patterns need one."""

NOT_AFTER_NUMBER = r"(?<![\d.,零〇一二两俩三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟])"
"""Lookbehind that starts a number match only at the start of a number: without it a long run of
digits makes the price and quantity patterns retry at every position (quadratic time)."""

DIGITS = r"\d+(?:,\d{3})*(?:\.\d+)?"
"""A decimal number as written in normalised text: 12, 1,299, 99.5."""

NUMBER = rf"(?:{DIGITS}|{CN_NUM}|\d+(?:\.\d+)?[kw万千])"

_SUFFIXED = re.compile(r"^(\d+(?:\.\d+)?)([kw万千])$")


def parse_cn_numeral(text: str) -> int | None:
    """Value of a Chinese numeral: "十二" -> 12, "一百零五" -> 105, "两千" -> 2000, "一二三" -> 123."""
    if not text or len(text) > MAX_NUMBER_CHARS:
        return None
    if any(c not in CN_DIGITS and c not in CN_UNITS and c not in CN_BIG for c in text):
        return None
    if all(c in CN_DIGITS for c in text):
        if len(text) == 1:
            return CN_DIGITS[text]
        return int("".join(str(CN_DIGITS[c]) for c in text))  # read digit by digit: 一二三 -> 123
    total = section = digit = 0
    last_unit, zero_seen = 0, False
    for c in text:
        if c in CN_DIGITS:
            digit = CN_DIGITS[c]
            zero_seen = zero_seen or digit == 0
        elif c in CN_UNITS:
            section += (digit or 1) * CN_UNITS[c]
            digit, last_unit, zero_seen = 0, CN_UNITS[c], False
        else:
            total += (section + digit) * CN_BIG[c]
            section = digit = 0
            last_unit, zero_seen = CN_BIG[c], False
    if digit and last_unit >= 100 and not zero_seen and text[-2] not in CN_DIGITS:
        digit *= last_unit // 10  # colloquial "三千五" = 3500, "一百五" = 150
    return total + section + digit


def parse_number(text: str) -> float | None:
    """Digits ("1,299", "99.5", "2k", "1.5万"), Chinese numerals or English words, else ``None``."""
    t = text.strip().lower()
    if not t or len(t) > MAX_NUMBER_CHARS:
        return None
    m = _SUFFIXED.match(t)
    if m:
        mult = {"k": 1000, "千": 1000, "w": 10_000, "万": 10_000}[m.group(2)]
        return float(m.group(1)) * mult
    if t[0].isdigit():
        try:
            return float(t.replace(",", ""))
        except ValueError:
            return None
    if t in EN_WORDS:
        return float(EN_WORDS[t])
    cn = parse_cn_numeral(t)
    return float(cn) if cn is not None else None


def as_json_number(value: float) -> int | float:
    """``12.0`` -> ``12`` so JSON shows whole numbers as integers."""
    return int(value) if value == int(value) else round(value, 2)
