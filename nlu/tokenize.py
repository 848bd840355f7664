"""Tokenisation: jieba for Chinese runs, a regular expression for everything else.

The tokenizer is an own ``jieba.Tokenizer`` instance (not jieba's global one) so that catalogue terms
added at runtime (brand and product names such as "小米手环") stay inside this interpreter. jieba loads
its dictionary lazily on first use (about a second); English words are lightly stemmed so that
"cancelled", "cancelling" and "cancel" share a feature.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from functools import lru_cache

import jieba
import snowballstemmer  # type: ignore[import-untyped,unused-ignore]

from nlu.normalize import is_han

_CHUNKS = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fff]+|[a-z]+(?:'[a-z]+)?|[0-9]+(?:\.[0-9]+)?|[^\s\w]", re.UNICODE
)
_STEMMER = snowballstemmer.stemmer("english")
_LOCK = threading.Lock()

jieba.setLogLevel(logging.WARNING)


@lru_cache(maxsize=1 << 15)
def stem(word: str) -> str:
    """Snowball stem of a lower-case English word."""
    out: str = _STEMMER.stemWord(word)
    return out


class Tokenizer:
    """Splits normalised text into word tokens; Chinese via jieba with extra dictionary terms."""

    def __init__(self, terms: Iterable[str] = ()) -> None:
        self._jieba = jieba.Tokenizer()
        self._ready = False
        self._pending: set[str] = set(terms)

    def add_terms(self, terms: Iterable[str]) -> None:
        """Teach jieba words it should keep whole (catalogue names); cheap, no retraining."""
        new = {t for t in terms if any(is_han(c) for c in t) and 1 < len(t) <= 20}
        with _LOCK:
            if self._ready:
                for term in new:
                    self._jieba.add_word(term, freq=2000)
            else:
                self._pending |= new

    def _ensure_ready(self) -> None:
        if self._ready:
            return
        with _LOCK:
            if not self._ready:
                self._jieba.initialize()
                for term in self._pending:
                    self._jieba.add_word(term, freq=2000)
                self._pending.clear()
                self._ready = True

    def tokens(self, text: str) -> list[str]:
        """Word tokens of normalised (lower-case, simplified) text, digits collapsed to ``0``."""
        self._ensure_ready()
        out: list[str] = []
        for m in _CHUNKS.finditer(text):
            chunk = m.group()
            first = chunk[0]
            if is_han(first):
                if len(chunk) == 1:
                    out.append(chunk)
                else:
                    out.extend(self._jieba.lcut(chunk, HMM=True))
            elif "a" <= first <= "z":
                out.append(stem(chunk.replace("'", "")))
            elif "0" <= first <= "9":
                out.append("0" * min(len(chunk), 4))
            else:
                out.append(chunk)
        return out
