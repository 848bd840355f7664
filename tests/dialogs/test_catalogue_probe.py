"""R5.2-1, R5.2-2 (issue 14 "Must show"): every product name, category name and synonym of the demo
catalogue in zh-Hans, zh-Hant and en, sent alone as a first message, yields a product list or card
containing that product (or a product of that category): at least 99 %, misses listed."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from commerce_core.api import seed_demo
from commerce_core.clock import FakeClock
from commerce_core.demo.loader import demo_catalogue
from tests.dialogs.catalogue_probe import probe, probes
from tests.runtime_support import make_runtime


async def test_every_catalogue_word_reaches_search(
    sqlite_template: Path, tmp_path: Path, interpreter: Any
) -> None:
    path = tmp_path / "shop.db"
    shutil.copy(sqlite_template, path)
    runtime = await make_runtime(f"sqlite+aiosqlite:///{path}", tmp_path, FakeClock(), interpreter)
    try:
        data = demo_catalogue()
        await seed_demo(runtime.container.commerce, data)
        await runtime.refresh_catalogue()
        items = probes(data)
        assert len(items) > 1000  # the demo catalogue's words, all three scripts
        misses: list[str] = []
        for number, item in enumerate(items):
            hit, answer = await probe(runtime, item, number)
            if not hit:
                misses.append(f"{item.kind} {item.term!r} -> {answer}")
        rate = 1 - len(misses) / len(items)
        print(f"catalogue probe: {len(items) - len(misses)}/{len(items)} = {rate:.2%}")
        print("\n".join(misses))
        assert rate >= 0.99, f"{len(misses)} of {len(items)} terms missed search:\n" + "\n".join(misses)
    finally:
        await runtime.aclose()
