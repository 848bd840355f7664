"""Entity extraction: every extractor runs on the normalised text, overlaps are settled, and spans are
mapped back to the original text.

The dialog's expected slot widens what counts: a bare "2" is a quantity when the bot just asked "how
many?", an ordinal when it asked "which one?", and a bare "红" is a colour when it asked for a colour.
"""

from __future__ import annotations

import re

from nlu.catalogue import CatalogueTerms
from nlu.extractors.attributes import colours, sizes
from nlu.extractors.base import RANK_CATALOGUE, RANK_ID, RANK_PATTERN, Candidate, resolve
from nlu.extractors.catalogue_match import CatalogueMatcher
from nlu.extractors.counting import ordinals, quantities
from nlu.extractors.identifiers import order_numbers, phone_numbers, tracking_numbers
from nlu.extractors.price import prices
from nlu.normalize import NormalisedText
from nlu.numbers import CN_NUM, EN_NUM, parse_number
from nlu.types import Entity

_TRAILING = " .!。!~"
SLOT_ALIASES = {
    "colour": "color",
    "qty": "quantity",
    "amount": "quantity",
    "budget": "price",
    "item": "ordinal",
}
_BARE_NUMBER = re.compile(
    rf"^\s*(?:#|no\.?|number)?\s*(\d{{1,4}}|{CN_NUM}|{EN_NUM})\s*(?:个|件|条|双|只|pcs|个吧|件吧)?\s*[.!。!~]*\s*$"
)


def canonical_slot(slot: str | None) -> str | None:
    """Slot names as extractors use them (``colour`` -> ``color``)."""
    if slot is None:
        return None
    slot = slot.strip().lower()
    return SLOT_ALIASES.get(slot, slot)


def _bare_number(text: str, slot: str) -> list[Candidate]:
    m = _BARE_NUMBER.match(text)
    if not m:
        return []
    end = len(text.rstrip(_TRAILING))
    value = parse_number(m.group(1))
    if value is None or value != int(value) or value < 0:
        return []
    n = int(value)
    if slot == "quantity" and 1 <= n <= 9999:
        return [Candidate("quantity", n, m.start(1), end, RANK_PATTERN)]
    if slot == "ordinal" and 1 <= n <= 99:
        return [Candidate("ordinal", {"ordinal": n}, m.start(1), end, RANK_PATTERN)]
    if slot == "price" and n > 0:
        return [
            Candidate(
                "price", {"min": None, "max": n, "currency": None}, m.start(1), m.end(1), RANK_PATTERN + 1
            )
        ]
    return []


def _catalogue_terms_win(cands: list[Candidate]) -> list[Candidate]:
    """Drop pattern candidates lying inside a longer catalogue term.

    A shop's own term names something specific: in "咖啡壶" (coffee pot), "四件套" (four-piece bedding
    set) or "small rice cooker", the colour "咖啡", the quantity "四件" and the size "small" are part
    of the name, and taking them as entities would leave the product unrecognised. Identifiers
    (order and tracking numbers, phones) are never dropped."""
    terms = [c for c in cands if c.rank == RANK_CATALOGUE]
    if not terms:
        return cands
    return [
        c
        for c in cands
        if c.rank == RANK_CATALOGUE
        or c.rank >= RANK_ID
        or not any(t.start <= c.start and c.end <= t.end and t.end - t.start > c.end - c.start for t in terms)
    ]


class EntityExtractor:
    """All extractors plus the catalogue index; ``update_catalogue`` swaps the index atomically."""

    def __init__(self, terms: CatalogueTerms) -> None:
        self.matcher = CatalogueMatcher(terms)

    def update_catalogue(self, terms: CatalogueTerms) -> None:
        self.matcher = CatalogueMatcher(terms)

    def candidates(self, nt: NormalisedText, expected_slot: str | None = None) -> list[Candidate]:
        """Every candidate span before overlap resolution (normalised coordinates)."""
        text = nt.text
        slot = canonical_slot(expected_slot)
        cands: list[Candidate] = []
        cands += order_numbers(text)
        cands += tracking_numbers(text)
        cands += phone_numbers(text)
        cands += prices(text)
        cands += quantities(text)
        cands += ordinals(text)
        cands += colours(text, expecting=slot == "color")
        cands += sizes(text, lambda i: nt.original[nt.origin[i]].isupper(), expecting=slot == "size")
        cands += self.matcher.find(text)
        if slot:
            cands += _bare_number(text, slot)
        return cands

    def extract(self, nt: NormalisedText, expected_slot: str | None = None) -> tuple[Entity, ...]:
        """Entities with offsets into ``nt.original``."""
        out = []
        for c in resolve(_catalogue_terms_win(self.candidates(nt, expected_slot))):
            start, end = nt.span(c.start, c.end)
            out.append(Entity(c.type, c.value, start, end, nt.original[start:end]))
        return tuple(out)
