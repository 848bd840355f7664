"""Domain errors to friendly words, in one place (the flows let them propagate here)."""

from __future__ import annotations

from commerce_core.api import DomainError
from dialogs.texts import Texts


def describe(error: DomainError, texts: Texts, lang: str) -> str:
    key = f"error.{error.code}"
    params = {k: v for k, v in error.params.items() if isinstance(v, str | int)}
    if key in texts.keys(lang):
        try:
            return texts.get(lang, key, **params)
        except (KeyError, IndexError):
            return texts.get(lang, "error.generic")
    return texts.get(lang, "error.generic")
