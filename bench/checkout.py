"""Checkout benchmark: order placement + sandbox capture, and a flash sale.

Targets (issue: foundation): (a) at least 500 orders/s on one process with 50 concurrent customers,
each placing an order and paying it through the sandbox provider's signed callback; (b) a flash
sale of 1,000 concurrent buyers for 100 units finishes in under 2 s with nothing oversold.

The database server comes from the app's settings (``SHOPBOT_DATABASE_URL``; run it against
PostgreSQL); a scratch database is created on it and dropped afterwards. Prints figures for people,
then one JSON line with the same figures.

    SHOPBOT_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test python bench/checkout.py
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import emit_json, scratch_database, summary
from bot.bootstrap import commerce_config
from bot.settings import load_settings
from commerce_core.app import Commerce
from commerce_core.catalog.types import ProductDraft, VariantDraft
from commerce_core.customers.types import AddressInput
from commerce_core.db.engine import create_engine
from commerce_core.errors import OutOfStock
from commerce_core.merchants.types import MerchantStatus
from commerce_core.orders.types import LineRequest

ADDRESS = AddressInput("王五", "13900001111", "杭州", "西湖区文三路1号", region="浙江省")


async def setup(commerce: Commerce, skus: int, stock: int) -> None:
    await commerce.merchants.register("bench", {"en": "Bench"}, status=MerchantStatus.ACTIVE)
    await commerce.catalog.create_category("goods", {"en": "Goods"})
    for n in range(skus):
        code = f"B{n:04d}"
        await commerce.catalog.create_product(
            ProductDraft(
                code,
                "bench",
                "goods",
                {"en": f"Item {n}", "zh-Hans": f"商品{n}"},
                {"en": "bench item"},
                [VariantDraft(f"{code}-X", {}, 1000 + n, stock)],
            )
        )
        await commerce.catalog.publish(code)


async def buy(commerce: Commerce, customer_id: int, sku: str, key: str) -> str:
    order = await commerce.orders.place(customer_id, ADDRESS, key, items=[LineRequest(sku, 1)])
    payment = await commerce.payments.start(order.number, customer_id=customer_id)
    result = await commerce.payments.sandbox_pay(payment.payment_id)
    assert result.outcome == "captured", result
    return order.number


async def throughput(
    commerce: Commerce, customers: int, orders_each: int, warmup_each: int
) -> dict[str, float]:
    """Steady state: a warm-up round first (every pooled connection prepares its statements once, as
    in a server that has been up for a while), then the measured round."""
    await setup(commerce, customers, stock=warmup_each + orders_each + 5)
    ids = [(await commerce.customers.identify("test", f"c{n}")).id for n in range(customers)]

    async def round_of(orders: int, tag: str, latencies: list[float]) -> float:
        async def customer(index: int) -> None:
            for k in range(orders):
                started = time.perf_counter()
                await buy(commerce, ids[index], f"B{index:04d}-X", f"{tag}{k}")
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*[customer(i) for i in range(customers)])
        return time.perf_counter() - started

    await round_of(warmup_each, "w", [])
    latencies: list[float] = []
    cpu_before = time.process_time()
    wall = await round_of(orders_each, "o", latencies)
    cpu = time.process_time() - cpu_before
    return {
        "orders": len(latencies),
        "wall_s": round(wall, 3),
        "orders_per_s": round(len(latencies) / wall, 1),
        "process_cpu_ms_per_order": round(cpu / len(latencies) * 1000, 3),
        **summary(latencies),
    }


async def flash_sale(commerce: Commerce, buyers: int, units: int) -> dict[str, float]:
    await setup(commerce, 1, stock=units)
    ids = [(await commerce.customers.identify("test", f"f{n}")).id for n in range(buyers)]

    async def attempt(customer_id: int) -> bool:
        try:
            await buy(commerce, customer_id, "B0000-X", "flash")
        except OutOfStock:
            return False
        return True

    started = time.perf_counter()
    results = await asyncio.gather(*[attempt(c) for c in ids])
    wall = time.perf_counter() - started
    on_hand, reserved = (await commerce.inventory.levels(["B0000-X"]))["B0000-X"]
    sold = sum(results)
    return {
        "buyers": buyers,
        "units": units,
        "orders": sold,
        "wall_s": round(wall, 3),
        "oversold": max(0, sold - units) + max(0, -on_hand),
        "left_on_hand": on_hand,
        "left_reserved": reserved,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--orders-each", type=int, default=20)
    parser.add_argument("--warmup-each", type=int, default=2, help="unmeasured orders per customer first")
    parser.add_argument("--buyers", type=int, default=1000)
    parser.add_argument("--units", type=int, default=100)
    args = parser.parse_args()
    settings = load_settings()
    figures: dict[str, object] = {"database": settings.db_url.split("+")[0]}
    for name, run in (
        ("throughput", lambda c: throughput(c, args.customers, args.orders_each, args.warmup_each)),
        ("flash_sale", lambda c: flash_sale(c, args.buyers, args.units)),
    ):
        async with scratch_database(settings) as url:
            engine = create_engine(
                url, pool_size=settings.db_pool_size, max_overflow=settings.db_pool_overflow
            )
            commerce = Commerce.build(engine, commerce_config(settings))
            try:
                figures[name] = await run(commerce)
            finally:
                await commerce.close()
    t, f = figures["throughput"], figures["flash_sale"]
    assert isinstance(t, dict) and isinstance(f, dict)
    print(
        f"(a) place order + sandbox capture, {args.customers} concurrent customers on {figures['database']}:"
    )
    print(
        f"    {t['orders']} orders in {t['wall_s']} s = {t['orders_per_s']} orders/s; "
        f"latency p50 {t['p50_ms']} ms, p99 {t['p99_ms']} ms   (target >= 500 orders/s)"
    )
    print(
        f"    this process spent {t['process_cpu_ms_per_order']} ms of CPU per order "
        f"(the database server's CPU is not counted)"
    )
    print(
        f"(b) flash sale: {f['buyers']} buyers for {f['units']} units: "
        f"{f['orders']} orders in {f['wall_s']} s, "
        f"oversold {f['oversold']}   (target: oversold 0, under 2 s)"
    )
    emit_json(figures)


if __name__ == "__main__":
    import uvloop

    uvloop.run(main())
