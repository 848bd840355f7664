"""Features for the intent classifier: words, word pairs and character n-grams.

Words carry meaning ("退款", "refund"); character n-grams survive typos ("refnud"), unknown
inflections and jieba's segmentation mistakes; word pairs catch short phrases ("not working",
"取消 订单"). Digits are collapsed to ``0`` so "cancel order 1234" and "cancel order 98765" look alike.
Each feature is a string with a prefix so the three kinds never collide.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import pairwise

from nlu.tokenize import Tokenizer

_PUNCT = re.compile(r"^[^\w\u3400-\u9fff]+$")
_LATIN_WORD = re.compile(r"[a-z]+")
_DIGITS = re.compile(r"\d+")
_HAN_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]+")
"""The characters ``nlu.normalize.is_han`` accepts, as a regular expression (one C scan, not a call per
character)."""


GRAM_CACHE = 1 << 12
"""Words and Han runs whose character n-grams are remembered; past this the memory starts afresh."""
GRAM_CACHE_CHARS = 16
"""Only words and runs up to this long are remembered (longer ones rarely come back)."""


def _latin_grams(word: str) -> list[str]:
    """Character 3-, 4- and 5-grams of a Latin word with a space on each side."""
    w = " " + word + " "
    last = len(w)
    out = ["c:" + w[i : i + 3] for i in range(last - 2)]
    out += ["c:" + w[i : i + 4] for i in range(last - 3)]
    out += ["c:" + w[i : i + 5] for i in range(last - 4)]
    return out


def _han_grams(run: str) -> list[str]:
    """Character 1-, 2- and 3-grams of a run of Han characters."""
    out = ["h:" + c for c in run]
    out += ["h:" + run[i : i + 2] for i in range(len(run) - 1)]
    out += ["h:" + run[i : i + 3] for i in range(len(run) - 2)]
    return out


class _Grams(dict[str, tuple[str, ...]]):
    """A word's or run's n-grams, remembered: they depend on nothing else, and shoppers use the same
    words again and again, so most messages rebuild none of their dozens of n-gram strings (and the
    remembered strings keep their hash for the vocabulary lookup)."""

    def __init__(self, grams: Callable[[str], list[str]]) -> None:
        super().__init__()
        self.grams = grams

    def __missing__(self, chunk: str) -> tuple[str, ...]:
        out = tuple(self.grams(chunk))
        if len(chunk) <= GRAM_CACHE_CHARS:
            if len(self) >= GRAM_CACHE:
                self.clear()
            self[chunk] = out
        return out


_LATIN_GRAMS = _Grams(_latin_grams)
_HAN_GRAMS = _Grams(_han_grams)


def features(text: str, tokenizer: Tokenizer) -> list[str]:
    """Feature strings for one normalised text (see ``nlu.normalize``)."""
    text = _DIGITS.sub("0", text)
    # only a one-character token can be punctuation (longer ones are Han words, Latin words or digits)
    tokens = [t for t in tokenizer.tokens(text) if len(t) > 1 or not _PUNCT.match(t)]
    out = ["w:" + t for t in tokens]
    padded = ["<s>", *tokens, "</s>"]
    out += ["b:" + a + " " + b for a, b in pairwise(padded)]
    for word in _LATIN_WORD.findall(text):
        out += _LATIN_GRAMS[word]
    for run in _HAN_RUN.findall(text):
        out += _HAN_GRAMS[run]
    return out
