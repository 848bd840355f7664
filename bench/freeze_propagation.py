"""Freeze propagation: how long after a freeze (or unfreeze) another process's NLU stops (or starts)
matching the merchant's products, with both processes' catalogue sync running as in ``shopbot serve``.

Target (R4.2-3): within 2 s in every process. Two runtimes share the configured PostgreSQL (a scratch
database on it) and Redis (``SHOPBOT_REDIS_URL``); runtime A freezes and announces, runtime B is
watched. Search, cards, carts and payment read the database, so they change with the commit itself;
the NLU's in-memory terms are what this measures. Prints figures for people, then one JSON line.

    SHOPBOT_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test \
    SHOPBOT_REDIS_URL=redis://127.0.0.1:6379/4 python bench/freeze_propagation.py --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from tempfile import TemporaryDirectory

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import emit_json, scratch_database, summary
from bot.bootstrap import build_runtime
from bot.catalogue_sync import announce_catalogue_change
from bot.runtime import Runtime
from bot.settings import load_settings
from commerce_core.api import SYSTEM_ACTOR
from commerce_core.catalog.types import ProductDraft, VariantDraft
from commerce_core.merchants.types import MerchantStatus
from nlu import BuiltinInterpreter

NLU_CACHE = Path(tempfile.gettempdir()) / "shopbot-bench-nlu-cache"

NAME = "Zephyr Titanium Kettle"


async def matched(runtime: Runtime) -> bool:
    parsed = await runtime.interpreter.parse(NAME)
    return any(e.type == "product" and e.value == "K1" for e in parsed.entities)


async def until(runtime: Runtime, wanted: bool, started: float, limit: float = 30.0) -> float:
    while await matched(runtime) != wanted:
        if time.perf_counter() - started > limit:
            raise SystemExit(f"not within {limit} s")
        await asyncio.sleep(0.01)
    return time.perf_counter() - started


async def main(rounds: int) -> None:
    base = load_settings()
    async with scratch_database(base) as url:
        with TemporaryDirectory() as folder:
            settings = base.model_copy(update={"database_url": url, "data_dir": Path(folder)})
            # one NLU per process, as two servers have (the model is trained once and cached)
            a = await build_runtime(settings, interpreter=BuiltinInterpreter.load(cache_dir=NLU_CACHE))
            b = await build_runtime(settings, interpreter=BuiltinInterpreter.load(cache_dir=NLU_CACHE))
            try:
                commerce = a.commerce
                await commerce.merchants.register("kettles", {"en": "Kettles"}, status=MerchantStatus.ACTIVE)
                await commerce.catalog.create_category("kitchen", {"en": "Kitchen"})
                await commerce.catalog.create_product(
                    ProductDraft(
                        "K1",
                        "kettles",
                        "kitchen",
                        {"en": NAME},
                        {"en": "kettle"},
                        [VariantDraft("K1-X", {}, 9900, 5)],
                    )
                )
                await commerce.catalog.publish("K1")
                await announce_catalogue_change(a.container.redis)
                stop = asyncio.Event()
                jobs = [asyncio.create_task(r.catalogue_sync.run(stop)) for r in (a, b)]
                await until(b, True, time.perf_counter())
                frozen, restored = [], []
                for _ in range(rounds):
                    started = time.perf_counter()
                    await commerce.merchants.freeze("kettles", "bench", SYSTEM_ACTOR)
                    await announce_catalogue_change(a.container.redis)
                    frozen.append(await until(b, False, started))
                    started = time.perf_counter()
                    await commerce.merchants.unfreeze("kettles", "", SYSTEM_ACTOR)
                    await announce_catalogue_change(a.container.redis)
                    restored.append(await until(b, True, started))
                stop.set()
                await asyncio.gather(*jobs)
            finally:
                await a.aclose()
                await b.aclose()
    figures = {
        "rounds": rounds,
        "freeze_to_other_process_nlu": summary(frozen),
        "unfreeze_to_other_process_nlu": summary(restored),
        "max_s": round(max(frozen + restored), 3),
        "within_2s": max(frozen + restored) <= 2.0,
    }
    print(f"freeze -> other process's NLU stops matching: {figures['freeze_to_other_process_nlu']}")
    print(f"unfreeze -> other process's NLU matches again: {figures['unfreeze_to_other_process_nlu']}")
    print(f"slowest: {figures['max_s']} s (target <= 2 s)")
    emit_json(figures)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(main(parser.parse_args().rounds))
