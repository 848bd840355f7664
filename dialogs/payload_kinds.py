"""The field kinds a button payload is made of, and the base class of every action.

Why a module of its own: :mod:`dialogs.payloads` lists every action and holds the codec; what a field
may contain (strict ASCII tokens, canonical digits in a range, closed sets) is the security boundary
every action shares, and reads best on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, ClassVar

from dialogs.texts import LANGUAGES

MAX_WIRE_BYTES = 64
SEPARATOR = ":"
#: the reasons an after-sales case can be opened with, as the reason buttons offer them
REASONS = (
    "quality_issue",
    "damaged_in_transit",
    "wrong_item",
    "not_as_described",
    "size_fit",
    "changed_mind",
    "broken",
    "other",
)


class InvalidPayload(ValueError):
    """A payload string that is not the encoding of any action (malformed, forged, or from the future)."""


@dataclass(frozen=True, slots=True)
class Token:
    """A string field: the whole value matches ``pattern`` (ASCII only, so no control or NUL byte)."""

    pattern: re.Pattern[str]

    def parse(self, raw: str) -> str | None:
        return raw if self.pattern.fullmatch(raw) else None


@dataclass(frozen=True, slots=True)
class Whole:
    """An integer field in canonical ASCII digits ("²" and "٣" are digits to Python, not to us; "012" is
    not how :func:`encode` writes 12)."""

    low: int
    high: int

    def parse(self, raw: str) -> int | None:
        if not 0 < len(raw) <= 19 or not raw.isascii() or not raw.isdigit() or raw[0] == "0" != raw:
            return None
        value = int(raw)
        return value if self.low <= value <= self.high else None


@dataclass(frozen=True, slots=True)
class OneOf:
    """A string field from a closed set (language tags, reason codes)."""

    values: frozenset[str]

    def parse(self, raw: str) -> str | None:
        return raw if raw in self.values else None


FieldKind = Token | Whole | OneOf

#: catalogue codes in the core's charset, at most 56 characters: "similar:" + 56 and "sku:" + 56 + ":999" fit
#: 64 bytes
Code = Annotated[str, Token(re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,55}", re.ASCII))]
#: order and payment numbers: an opaque public id (the core normalises case and look-alikes)
PublicId = Annotated[str, Token(re.compile(r"[A-Za-z0-9]{2,24}", re.ASCII))]
#: units per cart line, the core's limit (MAX_QUANTITY_PER_LINE; a test keeps the two equal)
QUANTITY = Whole(1, 999)
Quantity = Annotated[int, QUANTITY]
LineNumber = Annotated[int, Whole(1, 999)]
RowId = Annotated[int, Whole(1, 2**63 - 1)]
LanguageTag = Annotated[str, OneOf(frozenset(LANGUAGES))]
Reason = Annotated[str, OneOf(frozenset(REASONS))]
#: a dialog flow's name; None leaves the field off the wire
FlowName = Annotated[str | None, Token(re.compile(r"[a-z][a-z_]{0,23}", re.ASCII))]


class Action:
    """What a pressed button asks for. Subclasses are frozen dataclasses with a unique ``prefix``."""

    __slots__ = ()
    prefix: ClassVar[str]

    def encode(self) -> str:
        from dialogs.payloads import encode  # the codec needs the table of every action

        return encode(self)
