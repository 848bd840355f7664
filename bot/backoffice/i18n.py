"""The back office's texts in zh-Hans, zh-Hant and en, and how a visit's language is chosen.

Why a catalogue of its own: the shopper catalogues (``dialogs/texts``) speak to shoppers in a chat;
staff and merchants read pages with labels, buttons and errors, a different vocabulary. The three YAML
files must hold the same keys with the same placeholders (tests/backoffice/test_texts.py checks).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from dialogs.texts import read_catalogue

LANGUAGES = ("zh-Hans", "zh-Hant", "en")
DEFAULT_LANGUAGE = "zh-Hans"
#: what the language switcher shows for each language, always in that language
LANGUAGE_NAMES = {"zh-Hans": "简体中文", "zh-Hant": "繁體中文", "en": "English"}


@dataclass(frozen=True, slots=True)
class Catalogues:
    """Flat ``area.name`` -> template maps, one per language."""

    by_language: dict[str, dict[str, str]]

    def text(self, lang: str, key: str, **params: Any) -> str:
        """The text for ``key``; a missing key shows the key itself (the agreement test prevents it)."""
        template = self.by_language.get(lang, self.by_language[DEFAULT_LANGUAGE]).get(key, key)
        return template.format(**params) if params else template

    def keys(self, lang: str) -> set[str]:
        return set(self.by_language[lang])


@lru_cache(maxsize=1)
def load_catalogues() -> Catalogues:
    """``texts/<lang>.yml`` plus ``texts/<area>.<lang>.yml`` per area, read like the shopper texts."""
    return Catalogues({lang: read_catalogue("bot.backoffice", lang, "texts") for lang in LANGUAGES})


def supported(lang: str | None) -> str | None:
    """``lang`` if the back office speaks it, else None (a tampered form or an old account value)."""
    return lang if lang in LANGUAGES else None


def from_accept_language(header: str | None) -> str:
    """The first language of the browser's list that we speak; Chinese variants map by script/region."""
    for part in (header or "").split(","):
        tag = part.split(";", 1)[0].strip().lower()
        if tag.startswith("en"):
            return "en"
        if tag in ("zh-hant", "zh-tw", "zh-hk", "zh-mo") or tag.startswith("zh-hant"):
            return "zh-Hant"
        if tag.startswith("zh"):
            return "zh-Hans"
    return DEFAULT_LANGUAGE
