"""Finding catalogue products, brands, categories and attribute values in a message.

Exact matches come from a dictionary of normalised surface forms (so "優衣庫", "优衣库" and "UNIQLO"
all hit), scanned at every position for every surface length present: messages are short, and this
stays linear in the message length without an Aho-Corasick dependency. Small typos ("nkie", "小米手还")
are caught by a one-deletion index (SymSpell's idea): a window and a term within one edit share a
deletion variant; candidates are then checked with a real edit distance.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from nlu.catalogue import CatalogueTerms
from nlu.extractors.base import RANK_CATALOGUE, RANK_PATTERN, WORD_CHARS, Candidate
from nlu.normalize import is_han, normalise

_TYPE_ORDER = {"product": 0, "brand": 1, "category": 2}
_MIN_FUZZY = 4
"""Shorter terms are too easy to hit by accident ("mi" vs "my"), so they must match exactly."""


def _key(surface: str) -> str:
    return " ".join(normalise(surface).text.split())


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def damerau(a: str, b: str, limit: int = 1) -> int:
    """Optimal-string-alignment distance, giving up (returning ``limit + 1``) once past ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


class CatalogueMatcher:
    """An index of a ``CatalogueTerms`` value; build a new one when the catalogue changes."""

    def __init__(self, terms: CatalogueTerms) -> None:
        self.terms = terms
        entries: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for type_, value, surface in terms.surfaces():
            key = _key(surface)
            if key and (type_, value) not in entries[key]:
                entries[key].append((type_, value))
        self._exact = {k: sorted(v, key=lambda tv: _TYPE_ORDER.get(tv[0], 3)) for k, v in entries.items()}
        self._fuzzy: dict[str, set[str]] = defaultdict(set)
        for key in self._exact:
            if len(key) >= _MIN_FUZZY:
                for variant in _deletes(key) | {key}:
                    self._fuzzy[variant].add(key)
        #: per first character, the term lengths that start with it: a position whose character starts
        #: no term is skipped at once, and one that does tries only its own lengths (profiling showed
        #: the scan over every length at every position was most of a parse)
        self._lengths_by_initial = _lengths_by_initial(self._exact)
        #: a fuzzy match keeps the term's first letter (see below), so other starts need no look
        fuzzy_keys = [k for k in self._exact if len(k) >= _MIN_FUZZY]
        #: per first letter, the window widths to try, in order: each term length L (longest first)
        #: gives L - 1, L and L + 1 (a deletion, a substitution or swap, an insertion), each width once
        self._fuzzy_widths_by_initial = {
            c: tuple(
                dict.fromkeys(
                    w for length in lengths for w in (length - 1, length, length + 1) if w >= _MIN_FUZZY
                )
            )
            for c, lengths in _lengths_by_initial(fuzzy_keys).items()
        }
        self._starts = _start_pattern(self._lengths_by_initial)
        self._fuzzy_starts = _start_pattern(self._fuzzy_widths_by_initial)
        self._fuzzy_prefixes = {k[:2] for k in fuzzy_keys}
        self._fuzzy_ends = {(k[0], k[-1]) for k in fuzzy_keys}

    def words(self) -> list[str]:
        """Chinese surface forms, for the tokenizer's dictionary."""
        return [k.replace(" ", "") for k in self._exact if any(is_han(c) for c in k)]

    def _candidates(self, key: str, start: int, end: int) -> list[Candidate]:
        out = []
        for type_, value in self._exact[key]:
            rank = RANK_PATTERN if type_ in ("color", "size") else RANK_CATALOGUE
            out.append(Candidate(type_, value, start, end, rank))
        return out

    def find(self, text: str, fuzzy: bool = True) -> list[Candidate]:
        """Exact matches everywhere; fuzzy ones only where no exact match covers the text.

        A Latin-script match must not start or end inside a word: ``WORD_CHARS`` membership of the
        characters on both sides, asked only where a term could start (profiling showed a per-character
        word mask and a call per character cost more than the matching itself).
        """
        out: list[Candidate] = []
        n = len(text)
        covered = [False] * n
        found: set[str] = set()
        exact = self._exact
        by_initial = self._lengths_by_initial
        for m in self._starts.finditer(text):
            start = m.start()
            for length in by_initial[m.group()]:
                end = start + length
                if end > n:
                    continue
                key = text[start:end]
                if key in exact and (
                    end == n or not (text[end - 1] in WORD_CHARS and text[end] in WORD_CHARS)
                ):
                    out.extend(self._candidates(key, start, end))
                    found.add(key)
                    covered[start:end] = [True] * length
        if fuzzy and n <= 300 and not all(covered):
            out.extend(self._find_fuzzy(text, covered, found))
        return out

    def _find_fuzzy(self, text: str, covered: list[bool], found: set[str]) -> list[Candidate]:
        """Windows within one edit of a term; a term already found exactly is not found again."""
        out: list[Candidate] = []
        n = len(text)
        by_initial = self._fuzzy_widths_by_initial
        prefixes, ends = self._fuzzy_prefixes, self._fuzzy_ends
        for m in self._fuzzy_starts.finditer(text):
            start = m.start()
            ch = m.group()
            # A cheap necessary condition for a window to be within one edit of a term with its first
            # letter: the edit is at position 2 or later (the first two letters agree) or at 0/1 (then,
            # both being at least ``_MIN_FUZZY`` long, the last letters agree). Most windows fail both
            # set lookups and never build their deletion variants; the prefix half is the same for
            # every width from this start.
            prefix_ok = text[start : start + 2] in prefixes
            for width in by_initial[ch]:
                end = start + width
                if end > n:
                    continue
                last = text[end - 1]
                if last == " " or (end < n and last in WORD_CHARS and text[end] in WORD_CHARS):
                    continue
                if not (prefix_ok or (ch, last) in ends) or all(covered[start:end]):
                    continue
                window = text[start:end]
                keys: set[str] = set()
                for variant in _deletes(window) | {window}:
                    keys |= self._fuzzy.get(variant, _NONE)
                # typos rarely hit the first letter; requiring it keeps "like" from becoming "nike"
                best = [k for k in keys if k[0] == ch and k not in found and damerau(window, k) <= 1]
                if best:
                    out.extend(self._candidates(min(best), start, end))
                    covered[start:end] = [True] * width
                    break
        return out


_NONE: frozenset[str] = frozenset()


def _start_pattern(initials: Iterable[str]) -> re.Pattern[str]:
    """Where a term may start: one of ``initials``, and for a Latin letter or digit not right after
    another (a match must not start inside a word). ``finditer`` finds these positions in C instead of
    a Python loop over every character."""
    word = "".join(sorted(re.escape(c) for c in initials if c in WORD_CHARS))
    other = "".join(sorted(re.escape(c) for c in initials if c not in WORD_CHARS))
    parts = ([f"(?<![A-Za-z0-9])[{word}]"] if word else []) + ([f"[{other}]"] if other else [])
    return re.compile("|".join(parts) or "(?!)")


def _lengths_by_initial(keys: Iterable[str]) -> dict[str, tuple[int, ...]]:
    """First character -> lengths of the keys starting with it, longest first."""
    lengths: dict[str, set[int]] = defaultdict(set)
    for key in keys:
        lengths[key[0]].add(len(key))
    return {c: tuple(sorted(ls, reverse=True)) for c, ls in lengths.items()}
