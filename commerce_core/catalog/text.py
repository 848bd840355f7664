"""Turn product text and search queries into the same normalised tokens.

Both databases index a pre-tokenised ``search_document`` (space-separated tokens), so matching is the
same on SQLite FTS5 and PostgreSQL ``tsvector``: Chinese is segmented with jieba (search mode, so
"连衣裙" also yields "衣裙"), traditional characters are folded to simplified, English words are
lower-cased and Snowball-stemmed ("dresses" -> "dress").
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import jieba
import snowballstemmer
from opencc import OpenCC

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[a-z0-9]+")
_STOPWORDS = frozenset(
    {
        "the",
        "a",
        "an",
        "and",
        "or",
        "of",
        "for",
        "with",
        "in",
        "on",
        "to",
        "is",
        "are",
        "i",
        "me",
        "my",
        "want",
        "need",
        "looking",
        "some",
        "any",
        "do",
        "you",
        "have",
        "show",
        "find",
        "please",
        "pls",
        "的",
        "了",
        "吗",
        "呢",
        "啊",
        "我",
        "要",
        "想",
        "买",
        "有",
        "没有",
        "有没有",
        "一下",
        "看看",
        "找",
        "给",
        "请",
        "什么",
        "哪些",
        "哪个",
        "推荐",
        "一些",
        "一件",
        "一个",
        "件",
        "个",
        "款",
        "吧",
        "呀",
        "嘛",
    }
)
_lock = threading.Lock()
_added_words: set[str] = set()


@lru_cache(maxsize=1)
def _converter() -> OpenCC:
    return OpenCC("t2s")


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    return snowballstemmer.stemmer("english")


def add_terms(terms: Iterable[str]) -> None:
    """Teach jieba catalogue words (brands, product nouns) so they are kept whole."""
    with _lock:
        for term in terms:
            word = fold(term).strip()
            if word and _CJK.search(word) and word not in _added_words:
                jieba.add_word(word, freq=20000)
                _added_words.add(word)


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """NFKC (full-width to half-width), lower case, traditional -> simplified."""
    text = unicodedata.normalize("NFKC", text).lower()
    return str(_converter().convert(text)) if _CJK.search(text) else text


def tokens(text: str, *, for_query: bool = False) -> list[str]:
    """Tokens of ``text``; queries drop stop words, documents keep everything."""
    result: list[str] = []
    stem = _stemmer().stemWord
    for match in _WORD.finditer(fold(text)):
        chunk = match.group()
        if _CJK.fullmatch(chunk):
            words = jieba.cut_for_search(chunk, HMM=False) if not for_query else jieba.cut(chunk, HMM=False)
            result.extend(w for w in words if w.strip())
        else:
            result.append(stem(chunk))
    if for_query:
        result = [t for t in result if t not in _STOPWORDS]
    return result


def document(texts: Iterable[str]) -> str:
    """The ``search_document`` of a product: every token of every text, de-duplicated, in order."""
    seen: dict[str, None] = {}
    for text in texts:
        for token in tokens(text):
            seen.setdefault(token, None)
    return " ".join(seen)


def fuzzy_text(text: str) -> str:
    """The query as typed, folded, without stop words and unstemmed, for typo-tolerant matching of
    product names ("Runnign shoes!" -> "runnign shoes"): a stem of a misspelt word ("runnign") is
    no nearer its product than the word itself."""
    words = [m.group() for m in _WORD.finditer(fold(text))]
    return " ".join(w for w in words if w not in _STOPWORDS)
