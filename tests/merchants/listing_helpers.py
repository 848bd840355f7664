"""Helpers shared by the listing tests: a complete listing entry, a PNG, a database on both engines."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from commerce_core.api import ListingContent, ListingInput, VariantInput
from tests.commerce.factory import names
from tests.conftest import fresh_postgres
from tests.runtime_support import sqlite_copy

#: the smallest valid PNG (1x1, transparent)
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def both_databases(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite (the embedded default) or PostgreSQL, by the fixture's param."""
    return sqlite_copy(request, tmp_path) if request.param == "sqlite" else fresh_postgres(request)


def entry(code: str, *, description: str = "雪纺面料，棉质内衬", category: str = "dresses") -> ListingInput:
    """A complete, honest dress listing (every required attribute, an image, a normal price)."""
    return ListingInput(
        code=code,
        category_code=category,
        content=ListingContent(
            name=names("夏日雪纺长裙", "Summer chiffon maxi dress"),
            description={"zh-Hans": description, "en": "Chiffon with a cotton lining"},
            attributes={"material": "chiffon", "usage": "summer dates"},
            images=["/media/demo/P0001-1.svg"],
        ),
        variants=[VariantInput(f"{code}-RED-M", {"color": "red", "size": "M"}, 25900, 8)],
    )
