"""What every extractor returns, and how overlapping finds are settled.

Extractors work on the normalised text and return ``Candidate`` spans in normalised coordinates; the
pipeline maps them back to the original text at the end. Overlaps are settled in one place: exact
identifiers (order, tracking, phone numbers) beat everything, then the longer span wins, so "第二个"
is an ordinal and not the quantity "二个", and "100元以下" is a price and not a quantity.
"""

from __future__ import annotations

from dataclasses import dataclass

from nlu.types import JsonValue

RANK_ID = 3
RANK_PATTERN = 2
RANK_CATALOGUE = 1


@dataclass(frozen=True, slots=True)
class Candidate:
    """A span ``[start, end)`` of the normalised text that an extractor recognised."""

    type: str
    value: JsonValue
    start: int
    end: int
    rank: int = RANK_PATTERN


def resolve(cands: list[Candidate]) -> list[Candidate]:
    """Keep the best non-overlapping candidates, in text order."""
    chosen: list[Candidate] = []
    taken: list[tuple[int, int]] = []
    for c in sorted(cands, key=lambda c: (-c.rank, -(c.end - c.start), c.start)):
        if all(c.end <= s or c.start >= e for s, e in taken):
            chosen.append(c)
            taken.append((c.start, c.end))
    return sorted(chosen, key=lambda c: c.start)


WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
"""Latin letters and digits: a Latin-script match must not continue into one of these (a set, so hot
loops test membership instead of calling a function per character)."""
