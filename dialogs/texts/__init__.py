"""Every text a shopper or merchant sees, per language (zh-Hans, zh-Hant, en), never inline in flows."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

LANGUAGES = ("zh-Hans", "zh-Hant", "en")
DEFAULT_LANGUAGE = "zh-Hans"


class Texts:
    """A catalogue of message templates keyed ``area.name``; ``{name}`` placeholders are filled."""

    def __init__(self, catalogues: dict[str, dict[str, str]]) -> None:
        self.catalogues = catalogues

    def get(self, lang: str, key: str, **params: Any) -> str:
        catalogue = self.catalogues.get(lang) or self.catalogues[DEFAULT_LANGUAGE]
        template = catalogue.get(key)
        if template is None:
            template = self.catalogues["en"].get(key, key)
        return template.format(**params) if params else template

    def keys(self, lang: str) -> set[str]:
        return set(self.catalogues[lang])


@lru_cache(maxsize=1)
def load_texts() -> Texts:
    catalogues: dict[str, dict[str, str]] = {}
    for lang in LANGUAGES:
        raw = resources.files("dialogs.texts").joinpath(f"{lang}.yml").read_text(encoding="utf-8")
        data = yaml.safe_load(raw)
        assert isinstance(data, dict)
        catalogues[lang] = _flatten(data)
    return Texts(catalogues)


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in data.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, full + "."))
        else:
            flat[full] = str(value)
    return flat
