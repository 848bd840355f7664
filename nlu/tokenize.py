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
from math import inf, log

import jieba
import snowballstemmer  # type: ignore[import-untyped,unused-ignore]
from jieba import finalseg  # type: ignore[import-untyped,unused-ignore]

from nlu.normalize import is_han

_CHUNKS = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fff]+|[a-z]+(?:'[a-z]+)?|[0-9]+(?:\.[0-9]+)?|[^\s\w]", re.UNICODE
)
_JIEBA_HAN = re.compile("[\u4e00-\u9fd5]+")
"""The Han characters jieba segments itself (its ``re_han_default``); others it splits one by one."""
_STEMMER = snowballstemmer.stemmer("english")
_LOCK = threading.Lock()
SEGMENT_CACHE = 4096
"""Han runs whose segmentation is remembered; past this the memory starts afresh (bounded, like the
other per-character caches)."""
SEGMENT_CACHE_CHARS = 64
"""Only runs up to this long are remembered: longer ones rarely come back, and would make the memory's
bound a matter of megabytes."""

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
        #: Han run -> its words. Shoppers repeat themselves ("确认", "第一个", "我的订单到哪了"), and a
        #: run's words depend only on the run and jieba's dictionary; every change to the dictionary
        #: (``add_terms``, the first load) empties it, so a remembered segmentation is never stale.
        self._segments: dict[str, tuple[str, ...]] = {}
        self.version = 0
        """Counts the changes of the dictionary, raised once each change is complete: what was computed
        from tokens may be reused only while it stays the same (``BuiltinInterpreter``'s parse memory)."""

    def add_terms(self, terms: Iterable[str]) -> None:
        """Teach jieba words it should keep whole (catalogue names); cheap, no retraining."""
        new = {t for t in terms if any(is_han(c) for c in t) and 1 < len(t) <= 20}
        with _LOCK:
            if self._ready:
                for term in new:
                    self._jieba.add_word(term, freq=2000)
                self._segments = {}
            else:
                self._pending |= new
            self.version += 1

    def _ensure_ready(self) -> None:
        if self._ready:
            return
        with _LOCK:
            if not self._ready:
                self._jieba.initialize()
                for term in self._pending:
                    self._jieba.add_word(term, freq=2000)
                self._pending.clear()
                self._segments = {}
                self._ready = True
                self.version += 1

    def _segment(self, sentence: str) -> list[str]:
        """``jieba.Tokenizer.lcut(sentence, HMM=True)`` for a run of jieba's Han characters, same result.

        jieba builds a dict of word-end lists, then scores each with a generator over ``max`` that
        looks every word up again; profiling showed that bookkeeping, not the dictionary, was most of
        a parse's segmentation. Here each word's log-frequency is taken once, during the scan that
        finds it, and the best route is kept in two lists. Same arithmetic in the same order, same
        tie-break (the longer word), so the segmentation is identical.
        """
        freq = self._jieba.FREQ
        logtotal = log(self._jieba.total)
        n = len(sentence)
        edges: list[list[tuple[int, float]]] = []
        for k in range(n):
            ends = []
            i = k
            frag = sentence[k]
            while i < n and frag in freq:
                f = freq[frag]
                if f:
                    ends.append((i, log(f) - logtotal))
                i += 1
                frag = sentence[k : i + 1]
            edges.append(ends or [(k, 0.0 - logtotal)])  # jieba: log(FREQ.get(char) or 1), i.e. log 1
        score = [0.0] * (n + 1)
        to = [0] * (n + 1)
        for idx in range(n - 1, -1, -1):
            best_p = -inf
            best_x = idx
            for x, lp in edges[idx]:
                p = lp + score[x + 1]
                if p >= best_p:  # ends ascend: on a tie the later (longer) word wins, as in jieba
                    best_p, best_x = p, x
            score[idx] = best_p
            to[idx] = best_x
        out: list[str] = []
        buf = ""
        x = 0
        while x < n:
            y = to[x] + 1
            if y - x == 1:
                buf += sentence[x]
            else:
                if buf:
                    self._flush(buf, out)
                    buf = ""
                out.append(sentence[x:y])
            x = y
        if buf:
            self._flush(buf, out)
        return out

    def _words(self, run: str) -> tuple[str, ...]:
        """``_segment(run)``, remembered (see ``_segments``). The dictionary of remembered runs is read
        before segmenting: should ``add_terms`` replace it meanwhile, a result computed against the old
        dictionary lands in the discarded one."""
        segments = self._segments
        words = segments.get(run)
        if words is None:
            words = tuple(self._segment(run))
            if len(run) <= SEGMENT_CACHE_CHARS:
                if len(segments) >= SEGMENT_CACHE:
                    segments.clear()
                segments[run] = words
        return words

    def _flush(self, buf: str, out: list[str]) -> None:
        """jieba's handling of a run of single characters: unknown runs go to its HMM."""
        if len(buf) == 1:
            out.append(buf)
        elif not self._jieba.FREQ.get(buf):
            out.extend(finalseg.cut(buf))
        else:
            out.extend(buf)

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
                elif _JIEBA_HAN.fullmatch(chunk):
                    out.extend(self._words(chunk))
                else:  # characters jieba's own splitting treats specially: let it do everything
                    out.extend(self._jieba.lcut(chunk, HMM=True))
            elif "a" <= first <= "z":
                out.append(stem(chunk.replace("'", "")))
            elif "0" <= first <= "9":
                out.append("0" * min(len(chunk), 4))
            else:
                out.append(chunk)
        return out
