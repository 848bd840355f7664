"""Prices and price ranges: "100元以下", "200到300块", "under $50", "between 20 and 40", "¥99", "不超过五百".

Value format: ``{"min": number | None, "max": number | None, "currency": str | None}`` in major units;
currencies are "CNY", "USD", "EUR" or "GBP". An exact price has ``min == max``; "about 100" /
"100左右" becomes the range 80..120.
A bare number is only a price with a currency or a price word around it, so "2 of" stays a quantity
and "3天内" is not a price.
"""

from __future__ import annotations

import re

from nlu.extractors.base import Candidate
from nlu.numbers import CN_NUM, HAS_NUMERAL, NOT_AFTER_NUMBER, as_json_number, parse_number

_NUM = rf"(?:\d+(?:,\d{{3}})*(?:\.\d+)?(?:\s?[kw万千](?![a-z]))?|{CN_NUM})"
_PRE = r"(?:¥|\$|us\$|rmb|usd|cny|€|£)"
_POST = r"(?:块钱|块|元钱|元|圆|rmb|cny|yuan|人民币|dollars?|bucks|usd|刀|美元|美金|euros?|€|eur|pounds?|gbp)"
_MONEY = (
    rf"(?:(?P<pre{{i}}>{_PRE})\s*)?{NOT_AFTER_NUMBER}(?P<num{{i}}>{_NUM})"
    rf"(?:\s*(?P<post{{i}}>{_POST})(?![a-z]))?"
)
_NOT_MONEY = (
    r"(?!\s*(?:days?|weeks?|months?|years?|hours?|minutes?|mins?|items?|pieces?|pcs|times|kg|cm|%|个|件|天|周|"
    r"星期|月|年|次|小时|分钟|号|码|斤|岁|人|pm|am|x|th|st|nd|rd|of\b))"
)


def _money(i: int) -> str:
    return _MONEY.replace("{i}", str(i))


_BETWEEN = r"到|至|-|~|—|to|and"
_MAX_BEFORE = (
    r"under|below|less than|cheaper than|at most|no more than|not more than|not over|max(?:imum)?|up to|"
    r"within|budget(?: is| of)?|不超过|不超|不要超过|别超过|不到|低于|少于|小于|不高于|最多|最高|预算|"
    r"便宜于"
)
_MAX_AFTER = r"以下|以内|之内|内|及以下|封顶|以下的"
_MIN_BEFORE = (
    r"over|above|more than|at least|starting at|min(?:imum)?|不低于|高于|超过|多于|大于|至少|最少|最低"
)
_MIN_AFTER = r"以上|起|往上|及以上|起步|or more|and up|\+"
_ABOUT_BEFORE = r"around|about|roughly|approximately|approx\.?|大概|大约|差不多"
_ABOUT_AFTER = r"左右|上下"

_RANGE = re.compile(
    rf"(?P<ctx>between|from|价格在?|价位在?|预算在?|budget(?: is)?|price(?: range)?|在)?\s*{_money(1)}\s*"
    rf"(?:{_BETWEEN})\s*{_money(2)}(?P<after>\s*(?:之间|左右|价位|的价格|range))?"
)
_MAX = re.compile(rf"(?:{_MAX_BEFORE})\s*:?\s*{_money(1)}{_NOT_MONEY}|{_money(2)}\s*(?:{_MAX_AFTER})")
_MIN = re.compile(rf"(?:{_MIN_BEFORE})\s*:?\s*{_money(1)}{_NOT_MONEY}|{_money(2)}\s*(?:{_MIN_AFTER})")
_ABOUT = re.compile(rf"(?:{_ABOUT_BEFORE})\s*{_money(1)}{_NOT_MONEY}|{_money(2)}\s*(?:{_ABOUT_AFTER})")
_EXACT = re.compile(_money(1))

#: Words each pattern cannot match without: a text lacking them skips that pattern. The patterns
#: behind a number (every Chinese numeral is one, so "第一个" or "张三" would run them all) are the
#: costliest part of price extraction, and their words are rare; an exact price counts only with a
#: currency, so a text without one skips ``_EXACT`` too.
_MAY_BE_RANGE = re.compile(_BETWEEN)
_MAY_BE_MAX = re.compile(f"{_MAX_BEFORE}|{_MAX_AFTER}")
_MAY_BE_MIN = re.compile(f"{_MIN_BEFORE}|{_MIN_AFTER}")
_MAY_BE_ABOUT = re.compile(f"{_ABOUT_BEFORE}|{_ABOUT_AFTER}")
_MAY_HAVE_CURRENCY = re.compile(f"{_PRE}|{_POST}")

_CURRENCY = {
    "¥": "CNY",
    "rmb": "CNY",
    "cny": "CNY",
    "块钱": "CNY",
    "块": "CNY",
    "元钱": "CNY",
    "元": "CNY",
    "圆": "CNY",
    "yuan": "CNY",
    "人民币": "CNY",
    "$": "USD",
    "us$": "USD",
    "usd": "USD",
    "dollar": "USD",
    "dollars": "USD",
    "bucks": "USD",
    "刀": "USD",
    "美元": "USD",
    "美金": "USD",
    "€": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "eur": "EUR",
    "£": "GBP",
    "pound": "GBP",
    "pounds": "GBP",
    "gbp": "GBP",
}


def _currency(m: re.Match[str], *indexes: int) -> str | None:
    for i in indexes:
        for part in ("pre", "post"):
            sym = m.group(f"{part}{i}")
            if sym:
                return _CURRENCY.get(sym)
    return None


def _amount(m: re.Match[str], i: int) -> float | None:
    raw = m.group(f"num{i}")
    return None if raw is None else parse_number(raw.replace(" ", ""))


def _value(
    low: float | None, high: float | None, currency: str | None
) -> dict[str, int | float | str | None]:
    return {
        "min": None if low is None else as_json_number(low),
        "max": None if high is None else as_json_number(high),
        "currency": currency,
    }


def prices(text: str) -> list[Candidate]:
    """All price mentions; overlapping ones are settled by the caller (longest wins)."""
    out: list[Candidate] = []
    if not HAS_NUMERAL.search(text):  # every pattern below needs a number
        return out
    for m in _RANGE.finditer(text) if _MAY_BE_RANGE.search(text) else ():
        low, high, cur = _amount(m, 1), _amount(m, 2), _currency(m, 1, 2)
        if low is None or high is None or not (cur or m.group("ctx") or m.group("after")):
            continue
        low, high = min(low, high), max(low, high)
        start = m.start() if m.group("ctx") else m.start("num1") - len(m.group("pre1") or "")
        out.append(Candidate("price", _value(low, high, cur), start, m.end()))
    for pattern, gate, kind in (
        (_MAX, _MAY_BE_MAX, "max"),
        (_MIN, _MAY_BE_MIN, "min"),
        (_ABOUT, _MAY_BE_ABOUT, "about"),
    ):
        if not gate.search(text):
            continue
        for m in pattern.finditer(text):
            i = 1 if m.group("num1") is not None else 2
            amount = _amount(m, i)
            if amount is None:
                continue
            cur = _currency(m, i)
            if kind == "max":
                value = _value(None, amount, cur)
            elif kind == "min":
                value = _value(amount, None, cur)
            else:
                value = _value(amount * 0.8, amount * 1.2, cur)
            out.append(Candidate("price", value, m.start(), m.end()))
    if not _MAY_HAVE_CURRENCY.search(text):
        return out
    for m in _EXACT.finditer(text):
        cur = _currency(m, 1)
        amount = _amount(m, 1)
        if cur and amount is not None:
            out.append(Candidate("price", _value(amount, amount, cur), m.start(), m.end()))
    return out
