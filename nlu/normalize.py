"""Text normalisation that remembers where every character came from.

Matching works on a *normalised* copy (NFKC, full-width to half-width, lower case, traditional to
simplified Chinese) so that "ＸＬ", "xl", "紅色" and "红色" look alike to the extractors and the
classifier. Entities must still point into what the user typed, so the normalised string carries an
offset map: ``origin[i]`` is the index in the original text of normalised character ``i``.

The work is done one character at a time with a bounded cache: messages are short and repeat their
characters, so this is both exact about offsets and fast.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import opencc

_T2S = opencc.OpenCC("t2s")
_S2T = opencc.OpenCC("s2t")

MAX_CHARS = 4096
"""Longer messages are analysed up to here (Telegram's own limit); keeps the worst case fast."""


@lru_cache(maxsize=1 << 16)
def to_simplified_char(ch: str) -> str:
    """Traditional -> simplified for one character ("紅" -> "红"); other characters unchanged."""
    if ch < "\u2e80":
        return ch
    out: str = _T2S.convert(ch)
    return out if len(out) == 1 else ch


@lru_cache(maxsize=1 << 16)
def is_traditional_only(ch: str) -> bool:
    """True for characters written differently in simplified Chinese."""
    return is_han(ch) and to_simplified_char(ch) != ch


@lru_cache(maxsize=1 << 16)
def is_simplified_only(ch: str) -> bool:
    """True for characters written differently in traditional Chinese."""
    if not is_han(ch):
        return False
    out: str = _S2T.convert(ch)
    return len(out) == 1 and out != ch


def is_han(ch: str) -> bool:
    """CJK unified ideographs (basic block and extension A), the script of Chinese words."""
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


@lru_cache(maxsize=1 << 16)
def _normalise_char(ch: str) -> str:
    """Map one original character to its normalised form (possibly several characters or none)."""
    cat = unicodedata.category(ch)
    if cat in ("Cs", "Co", "Cn"):  # lone surrogates, private use, unassigned: meaningless here
        return " "
    if cat == "Cc" or cat == "Zl" or cat == "Zp" or ch in "\u200b\u200c\u200d\ufeff":
        return " "
    if cat == "Cf":
        return ""
    out = unicodedata.normalize("NFKC", ch).lower()
    if cat == "Zs":
        return " "
    if len(out) == 1:
        return to_simplified_char(out)
    return "".join(to_simplified_char(c) for c in out)


@dataclass(frozen=True, slots=True)
class NormalisedText:
    """The normalised text plus, for each of its characters, the index in the original."""

    original: str
    text: str
    origin: Sequence[int]
    """A ``range`` when every character maps to one character (most messages), else a tuple."""

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original ``(start, end)`` of the normalised span ``[start, end)``."""
        if end <= start:
            pos = self.origin[start] if start < len(self.origin) else len(self.original)
            return pos, pos
        return self.origin[start], self.origin[end - 1] + 1


#: Taiwan / Hong Kong words -> the mainland words the training data uses; same length on purpose, so
#: the offset map stays exact. (Character conversion alone turns 帳戶 into 帐户, not 账户.)
REGIONAL_WORDS: dict[str, str] = {
    "帐户": "账户",
    "帐号": "账号",
    "结帐": "结账",
    "帐单": "账单",
    "资讯": "信息",
    "软体": "软件",
    "影片": "视频",
    "网路": "网络",
    "简讯": "短信",
    "手机壳": "手机壳",
    "宅配": "快递",
    "货运": "物流",
    "讯息": "消息",
}
assert all(len(k) == len(v) for k, v in REGIONAL_WORDS.items())


_ANY_REGIONAL = re.compile("|".join(REGIONAL_WORDS))
"""One C scan tells whether any regional word occurs (most messages: none) before the word-by-word
replacement, whose order decides overlapping words."""


def _regional(text: str) -> str:
    if not _ANY_REGIONAL.search(text):
        return text
    for word, mainland in REGIONAL_WORDS.items():
        if word in text:
            text = text.replace(word, mainland)
    return text


class _CharTable(dict[int, str]):
    """``str.translate`` table filled on demand from ``_normalise_char``: translating a whole message
    in C replaced a Python call per character (profiling: the largest part of ``normalise``). Bounded
    like the cache it replaces, so a flood of distinct characters cannot grow it without limit."""

    irregular: set[str]
    """Characters whose normal form is not exactly one character: only text containing one of these
    needs the per-character walk that builds an uneven offset map."""

    def __init__(self) -> None:
        super().__init__()
        self.irregular = set()

    def __missing__(self, code: int) -> str:
        if len(self) >= 1 << 16:
            self.clear()
        out = _normalise_char(chr(code))
        if len(out) != 1:
            self.irregular.add(chr(code))
        self[code] = out
        return out


_TABLE = _CharTable()


def normalise(text: str, limit: int = MAX_CHARS) -> NormalisedText:
    """Normalise ``text`` (at most ``limit`` original characters) keeping the offset map."""
    text_in = text[:limit]
    mapped = text_in.translate(_TABLE)
    if len(mapped) == len(text_in) and _TABLE.irregular.isdisjoint(text_in):
        # one character for one: the offset map is the identity
        return NormalisedText(original=text, text=_regional(mapped), origin=range(len(mapped)))
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text_in):
        out = _normalise_char(ch)
        if len(out) == 1:
            chars.append(out)
            origin.append(i)
        else:
            for c in out:
                chars.append(c)
                origin.append(i)
    return NormalisedText(original=text, text=_regional("".join(chars)), origin=tuple(origin))


def safe_text(text: str) -> str:
    """The text with lone surrogates replaced, so it can be encoded as UTF-8 (JSON, logs)."""
    return text.encode("utf-8", "replace").decode("utf-8")
