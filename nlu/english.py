"""Is a Latin-script message plainly English? The catalogue's English words decide, not the script.

Why: WeChat tells us no user's language (every user arrives with the channel's "zh"), and a first
message that is only a product's English name ("Red Floral Dress") has no Chinese in it but no
English sentence either: the catalogue match leaves nothing to judge. Latin letters alone prove
nothing on WeChat: Chinese shoppers type brands ("Nike"), model names ("AirPods Pro") and pinyin
("lianyiqun"). So the test is conservative: every Latin word must be English vocabulary (a word of a
product's or category's English name that no Chinese name or brand uses, or a common English word
such as "the", "please", "red"), at least two words, one of them from the catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from nlu.catalogue import CatalogueTerms

_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
#: Han characters, and the CJK and full-width punctuation a Chinese keyboard types
_CHINESE = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]")
#: common English words around a product's name; the pinyin syllables among them ("you", "an", "me")
#: never count alone: a plainly English message needs a word of the catalogue's English names too
COMMON_WORDS = frozenset(
    """a an the this that these those it its is are do does have has any some i me my you your we
    want need looking look for to buy get find show see please pls plz how much many what which where
    with without and or of in on at by size sizes colour color cheap new one ones there here can could
    would like hi hello hey thanks thank price cost got sell red black white blue green pink yellow
    grey gray brown purple orange""".split()  # noqa: SIM905 - a word list reads best as words
)
#: a plainly English message has at least this many words
MIN_WORDS = 2


def _forms(word: str) -> tuple[str, ...]:
    """The word and its bare singular ("dresses" -> "dress"): category names are plural, names not."""
    word = word.lower()
    forms = [word]
    if len(word) > 3 and word.endswith("es"):
        forms.append(word[:-2])
    if len(word) > 2 and word.endswith("s"):
        forms.append(word[:-1])
    return tuple(forms)


def _words(texts: Iterable[str]) -> set[str]:
    return {form for text in texts for word in _WORD.findall(text) for form in _forms(word)}


class EnglishVocabulary:
    """The catalogue's English-only words, rebuilt with the catalogue (a set of lower-case words)."""

    def __init__(self, terms: CatalogueTerms) -> None:
        english = [name for p in terms.products for lang, name in p.names.items() if lang == "en"]
        english += [name for c in terms.categories for lang, name in c.names.items() if lang == "en"]
        other = [name for p in terms.products for lang, name in p.names.items() if lang != "en"]
        other += [name for c in terms.categories for lang, name in c.names.items() if lang != "en"]
        other += [name for b in terms.brands for name in (b.id, *b.names)]
        # a word a Chinese name or a brand also uses ("AirPods", "Ultraboost", "Xiaomi") says nothing
        self.words = frozenset(_words(english) - _words(other) - {""})

    def is_plain_english(self, text: str) -> bool:
        """True when ``text`` is Latin script made only of English vocabulary (see the module)."""
        if _CHINESE.search(text):
            return False
        words = _WORD.findall(text)
        if len(words) < MIN_WORDS:
            return False
        from_catalogue = False
        for word in words:
            forms = _forms(word)
            if any(form in self.words for form in forms):
                from_catalogue = True
            elif not any(form in COMMON_WORDS for form in forms):
                return False  # a brand, a model, pinyin, or a word we do not know: no evidence
        return from_catalogue
