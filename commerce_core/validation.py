"""Small validators shared by the services; each raises :class:`InvalidInput` with a code."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

from commerce_core.errors import InvalidInput

MAX_QUANTITY_PER_LINE = 999
LANGUAGES = ("zh-Hans", "zh-Hant", "en")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def check_code(code: str, what: str) -> str:
    """A merchant's, category's, product's or SKU's code: 1-64 letters, digits, ``_.-``."""
    if not isinstance(code, str) or not _CODE.match(code):
        raise InvalidInput(f"invalid {what} code {code!r}", code="invalid_code", field=what)
    return code


def check_quantity(quantity: int, *, allow_zero: bool = False) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidInput("quantity must be a whole number", code="invalid_quantity")
    low = 0 if allow_zero else 1
    if not low <= quantity <= MAX_QUANTITY_PER_LINE:
        raise InvalidInput(
            f"quantity must be between {low} and {MAX_QUANTITY_PER_LINE}",
            code="invalid_quantity",
            quantity=quantity,
            maximum=MAX_QUANTITY_PER_LINE,
        )
    return quantity


def clean_text(value: str | None, field: str, *, max_length: int, required: bool = True) -> str:
    """Strip, drop control characters, and enforce a length limit."""
    text = "".join(ch for ch in (value or "") if unicodedata.category(ch) not in {"Cc", "Cs"} or ch in "\n\t")
    text = text.strip()
    if required and not text:
        raise InvalidInput(f"{field} is required", code="required", field=field)
    if len(text) > max_length:
        raise InvalidInput(
            f"{field} is longer than {max_length} characters",
            code="too_long",
            field=field,
            maximum=max_length,
        )
    return text


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise InvalidInput(f"unsupported language {lang!r}", code="invalid_language", language=lang)
    return lang


def localized(value: dict[str, str], field: str, *, max_length: int) -> dict[str, str]:
    """A text in our three languages; at least one must be given, missing ones fall back later."""
    if not isinstance(value, dict) or not value:
        raise InvalidInput(f"{field} needs at least one language", code="required", field=field)
    result: dict[str, str] = {}
    for lang, text in value.items():
        check_language(lang)
        result[lang] = clean_text(text, field, max_length=max_length)
    return result


def pick_language(value: dict[str, str], lang: str) -> str:
    """The text in ``lang``, else the closest language we have (zh-Hant <-> zh-Hans, then en)."""
    order = {
        "zh-Hans": ("zh-Hans", "zh-Hant", "en"),
        "zh-Hant": ("zh-Hant", "zh-Hans", "en"),
        "en": ("en", "zh-Hans", "zh-Hant"),
    }.get(lang, LANGUAGES)
    if lang == "zh-Hant" and not value.get("zh-Hant") and value.get("zh-Hans"):
        return _to_traditional(value["zh-Hans"])
    for candidate in order:
        if value.get(candidate):
            return value[candidate]
    return next(iter(value.values()), "")


@lru_cache(maxsize=4096)
def _to_traditional(text: str) -> str:
    """Merchants may write only simplified Chinese; traditional readers still get their script."""
    return str(_s2t().convert(text))


@lru_cache(maxsize=1)
def _s2t() -> Any:
    from opencc import OpenCC

    return OpenCC("s2tw")
