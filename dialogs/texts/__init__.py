"""Every text a shopper or merchant sees, per language (zh-Hans, zh-Hant, en), never inline in flows.

A catalogue is ``<lang>.yml`` plus any ``<area>.<lang>.yml`` beside it: areas that grow on their own
(after-sales desk, onboarding, small talk...) keep their texts in their own file, so two pieces of
work never edit the same lines. A key defined twice is an error, not a silent override.
"""

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
    return Texts({lang: read_catalogue("dialogs.texts", lang) for lang in LANGUAGES})


def read_catalogue(package: str, lang: str, folder: str = "") -> dict[str, str]:
    """One language's flat catalogue: ``<lang>.yml`` then every ``<area>.<lang>.yml``, sorted."""
    base = resources.files(package)
    if folder:
        base = base.joinpath(folder)
    areas = sorted(
        entry.name
        for entry in base.iterdir()
        if entry.name.endswith(f".{lang}.yml") and entry.name != f"{lang}.yml"
    )
    names = [f"{lang}.yml", *areas]
    flat: dict[str, str] = {}
    for name in names:
        data = yaml.safe_load(base.joinpath(name).read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{package}/{folder}/{name} must be a mapping")
        for key, value in _flatten(data).items():
            if key in flat:
                raise ValueError(f"text key {key!r} is defined twice ({name})")
            flat[key] = value
    return flat


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in data.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, full + "."))
        else:
            flat[full] = str(value)
    return flat
