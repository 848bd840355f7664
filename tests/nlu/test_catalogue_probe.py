"""Every catalogue word, sent alone, is recognised as that catalogue entry (R5.2-1, R5.2-2; issue 14).

The words are computed from the demo catalogue (``commerce_core.demo``), so the probe grows with it:
every product name and category name in zh-Hans, zh-Hant and en, and every synonym. Sent alone, each
must come back with a product or category entity that is (one of) the entries the word names, so
routing can prefer search over whatever intent the classifier guessed ("充电宝" is a power bank, not
a return request). At least 99 % must hold; the misses are listed in the failure message.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from commerce_core.demo.loader import demo_catalogue
from nlu import BuiltinInterpreter, CatalogueTerms, CategoryTerm, ProductTerm
from nlu.normalize import normalise

SEARCH_INTENTS = {"search_product", "product_details", "recommend", "add_to_cart"}


def demo_terms() -> CatalogueTerms:
    """The demo catalogue as the composition root hands it to the NLU (see ``bot.nlu_terms``)."""
    data = demo_catalogue()
    return CatalogueTerms(
        products=tuple(
            ProductTerm(
                p["code"],
                dict(p["name"]),
                tuple(p.get("synonyms", ())),
                (p.get("brand") or "").lower() or None,
                p["category"],
            )
            for p in data["products"]
        ),
        categories=tuple(
            CategoryTerm(c["code"], dict(c["name"]), tuple(c.get("synonyms", ())), c.get("parent"))
            for c in data["categories"]
        ),
    )


def probe_words(terms: CatalogueTerms) -> dict[str, set[tuple[str, str]]]:
    """Each product/category word (as written) -> every entry that word names."""
    owners: dict[str, set[tuple[str, str]]] = defaultdict(set)
    by_key: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for type_, value, surface in terms.surfaces():
        if type_ in ("product", "category") and surface.strip():
            by_key[normalise(surface).text.strip()].add((type_, value))
    for type_, _value, surface in terms.surfaces():
        if type_ in ("product", "category") and surface.strip():
            owners[surface.strip()] |= by_key[normalise(surface).text.strip()]
    return owners


@pytest.fixture(scope="module")
def demo_interpreter(interpreter: BuiltinInterpreter) -> BuiltinInterpreter:
    return BuiltinInterpreter(interpreter.model, demo_terms())


def test_probe_covers_every_language_and_synonym() -> None:
    data = demo_catalogue()
    words = probe_words(demo_terms())
    for product in data["products"][:20]:
        for name in (*product["name"].values(), *product.get("synonyms", ())):
            assert name.strip() in words
    assert len(words) > 1000


def test_every_catalogue_word_alone_is_recognised(demo_interpreter: BuiltinInterpreter) -> None:
    words = probe_words(demo_terms())
    misses = []
    intents: dict[str, int] = defaultdict(int)
    for word, owners in sorted(words.items()):
        result = demo_interpreter.parse_sync(word)
        intents[result.intent] += 1
        found = {(e.type, str(e.value)) for e in result.entities if e.type in ("product", "category")}
        if not found & owners:
            misses.append((word, result.intent, sorted(found)))
    recognised = 1 - len(misses) / len(words)
    assert recognised >= 0.99, f"{recognised:.2%} of {len(words)} recognised; misses: {misses}"
