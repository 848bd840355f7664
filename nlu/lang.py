"""Which language a message is written in: ``zh-Hans``, ``zh-Hant`` or ``en`` (and whether it mixes).

Script counting is enough here: shoppers write Chinese (simplified or traditional) or English, often
with English product names or sizes inside Chinese sentences. Traditional is told from simplified by
characters that exist in only one of the two forms; where the text gives no evidence (digits, emoji,
a tie) the dialog's language hint decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nlu.normalize import is_simplified_only, is_traditional_only

ZH_HANS = "zh-Hans"
ZH_HANT = "zh-Hant"
EN = "en"
LANGS = (ZH_HANS, ZH_HANT, EN)

_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
_HAN_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]+")
"""What ``nlu.normalize.is_han`` accepts."""


_TRAD, _SIMP = "t", "s"


class _FormTable(dict[int, str]):
    """``str.translate`` table, filled on demand: a Han character becomes ``_TRAD`` when only traditional
    Chinese writes it so, ``_SIMP`` when only simplified does, else nothing. Counting in C replaced two
    cached function calls per character. Bounded, so a flood of distinct characters cannot grow it
    without limit."""

    def __missing__(self, code: int) -> str:
        if len(self) >= 1 << 16:
            self.clear()
        ch = chr(code)
        form = _TRAD if is_traditional_only(ch) else _SIMP if is_simplified_only(ch) else ""
        self[code] = form
        return form


_FORMS = _FormTable()


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    """``lang`` is the main language; ``mixed`` says Chinese and English words both appear."""

    lang: str
    mixed: bool


def detect_language(text: str, hint: str | None = None) -> LanguageGuess:
    """Guess the language of the original ``text``; ``hint`` breaks ties and names script-less text."""
    han_chars = "".join(_HAN_RUN.findall(text[:1000]))  # one C scan; English text needs no loop
    han = len(han_chars)
    forms = han_chars.translate(_FORMS) if han else ""
    trad, simp = forms.count(_TRAD), forms.count(_SIMP)
    words = len(_LATIN_WORD.findall(text[:1000]))
    hint_lang = hint if hint in LANGS else None
    if han == 0:
        return LanguageGuess(EN if words or hint_lang is None else hint_lang, False)
    mixed = words > 0
    chinese = ZH_HANT if trad > simp or (trad == simp and hint_lang == ZH_HANT) else ZH_HANS
    if han > words or (han == words and hint_lang != EN):
        return LanguageGuess(chinese, mixed)
    return LanguageGuess(EN, mixed)
