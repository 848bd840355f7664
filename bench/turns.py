"""Conversation benchmark: whole shopper journeys through the real pipeline.

Each simulated shopper runs: search -> details (one of the first five results) -> add to cart ->
checkout -> address -> confirm -> pay (sandbox, signed callback) -> order status, through
de-duplication, the per-conversation lock, state in Redis, the NLU, the dialog engine and the
commerce core. Prints turns per second and p50/p99 turn latency at 1, 10 and 100 concurrent
conversations, then one JSON line.

Target (dialogs issue): at least 500 turns/s and p99 at most 50 ms at 100 concurrent conversations on
one process.

Metrics and behaviour events on vs off (operations issue, target: process CPU per turn within 3 %):
one worker process with ``SHOPBOT_METRICS_ENABLED`` (Prometheus series, pool events, log context per
turn) and ``SHOPBOT_ANALYTICS_ENABLED`` (behaviour events, the ``paid`` rows) and one without
(``--compare-off metrics`` or ``events`` leaves out only one, to see which costs what; ``none`` is an
A/A run of two identical workers, to see the noise), on the same seeded database, taking turns round
by round in ABBA order, each billing only its own process CPU (``bench/_lockstep.py`` says why and
how). Prints the median of the rounds' on/off ratios with its 95 % confidence interval: read the
figure only if an A/A run on the same machine state has a CI around zero. ``--compare-rounds 0``
skips it; ``--levels '' --rates ''`` runs only it.

Database and Redis come from the app settings (run against PostgreSQL and Redis):

    SHOPBOT_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
    SHOPBOT_REDIS_URL=redis://127.0.0.1:6379/14 python bench/turns.py
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import emit_json, scratch_database, summary
from bench._lockstep import Worker, lockstep, own_cpu_ms, report
from bot.analytics.settings import AnalyticsSettings
from bot.bootstrap import build_runtime
from bot.observability.settings import MetricsSettings
from bot.runtime import settle_heap
from bot.settings import Settings, load_settings
from commerce_core.catalog.types import ProductDraft, VariantDraft
from commerce_core.merchants.types import MerchantStatus
from dialogs.messages import InboundMessage

SCRIPT = Path(__file__).resolve()

JOURNEY = (
    "有没有红色连衣裙",
    "@pick",
    "@add",
    "结算",
    "张三 13812345678 上海市浦东新区世纪大道100号",
    "确认",
    "@pay",
    "我的订单到哪了",
)

PICKS = ("第一个", "第二个", "第三个", "第四个", "第五个")


async def seed(runtime: object, products: int) -> None:
    commerce = runtime.container.commerce  # type: ignore[attr-defined]
    await commerce.merchants.register(
        "bench", {"zh-Hans": "测试店", "en": "Bench"}, status=MerchantStatus.ACTIVE
    )
    await commerce.catalog.create_category(
        "dresses", {"zh-Hans": "连衣裙", "en": "Dresses"}, synonyms=["裙子"]
    )
    for n in range(products):
        code = f"B{n:03d}"
        await commerce.catalog.create_product(
            ProductDraft(
                code,
                "bench",
                "dresses",
                {"zh-Hans": f"红色连衣裙{n}号", "en": f"Red dress no. {n}"},
                {"zh-Hans": "测试商品", "en": "bench item"},
                [VariantDraft(f"{code}-M", {"color": "red", "size": "M"}, 9900 + n, 100_000)],
            )
        )
        await commerce.catalog.publish(code)
    await runtime.refresh_catalogue()  # type: ignore[attr-defined]


async def journey(
    runtime: object,
    user: str,
    latencies: list[float],
    interval: float = 0.0,
    until: float | None = None,
    starts: list[float] | None = None,
) -> None:
    """One shopper's journey; with ``interval`` > 0 the shopper starts a turn every ``interval`` seconds
    (people read and type between messages), otherwise as soon as the last answer arrives. No turn
    starts after ``until`` (a ``perf_counter`` time)."""
    pipeline = runtime.pipeline  # type: ignore[attr-defined]
    last_buttons: list[str] = []
    due = time.perf_counter()  # turns go out on a fixed schedule, so lateness does not add up
    for n, line in enumerate(JOURNEY):
        if until is not None and time.perf_counter() >= until:
            return
        payload = None
        if line == "@pick":  # shoppers pick different results, as people do
            line = PICKS[hash(user) % len(PICKS)]
        elif line == "@add":  # the add-to-cart button on the product card just shown
            payload = next(p for p in last_buttons if p.startswith("add:"))
        elif line == "@pay":
            payload = next(p for p in last_buttons if p.startswith("sbxpay:"))
        message = InboundMessage(
            "test", user, user, "" if payload else line, payload, dedup_key=f"{user}:{n}"
        )
        started = time.perf_counter()
        replies = await pipeline.handle(message)
        latencies.append(time.perf_counter() - started)
        if starts is not None:
            starts.append(started)
        last_buttons = [b.payload for r in replies for b in getattr(r, "buttons", ())]
        if interval:
            due += interval
            await asyncio.sleep(max(0.0, due - time.perf_counter()))


async def level(runtime: object, concurrency: int, journeys: int) -> dict[str, float]:
    latencies: list[float] = []
    queue = [f"u-{uuid.uuid4().hex[:10]}" for _ in range(journeys)]

    async def worker() -> None:
        while queue:
            await journey(runtime, queue.pop(), latencies)

    started, cpu_before = time.perf_counter(), time.process_time()
    await asyncio.gather(*[worker() for _ in range(concurrency)])
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_before
    return {
        "concurrency": concurrency,
        "turns": len(latencies),
        "turns_per_s": round(len(latencies) / wall, 1),
        "process_cpu_ms_per_turn": round(cpu / len(latencies) * 1000, 3),
        **summary(latencies),
    }


async def paced(runtime: object, conversations: int, rate: float, seconds: float) -> dict[str, float]:
    """``conversations`` open conversations together offering ``rate`` turns/s: each sends a turn
    every ``conversations / rate`` seconds, and a finished journey's place is taken by a new shopper.

    Conversations start at random points of one journey's length (seeded), as people do, instead of
    all searching at once and all confirming at once. Figures cover the ``seconds`` after that
    ramp, when every conversation is running."""
    latencies: list[float] = []
    starts: list[float] = []
    interval = conversations / rate
    ramp = interval * len(JOURNEY)
    started = time.perf_counter()
    measure_from, until = started + ramp, started + ramp + seconds
    phases = random.Random(7)
    offsets = [phases.uniform(0, ramp) for _ in range(conversations)]

    async def conversation(offset: float) -> None:
        await asyncio.sleep(offset)
        while time.perf_counter() < until:
            user = f"p-{uuid.uuid4().hex[:10]}"
            await journey(runtime, user, latencies, interval, until, starts)

    await asyncio.gather(*[conversation(offset) for offset in offsets])
    measured = [lat for lat, at in zip(latencies, starts, strict=True) if at >= measure_from]
    return {
        "conversations": conversations,
        "offered_turns_per_s": rate,
        "turns": len(measured),
        "turns_per_s": round(len(measured) / seconds, 1),
        **summary(measured),
    }


async def _flush_events(runtime: object) -> None:
    """Write the behaviour events still in memory (warm-up only: measured rounds leave the writing to
    the buffer's own timer and size policy, as in production)."""
    behaviour = getattr(getattr(runtime, "pipeline", None), "behaviour", None)
    if behaviour is not None:
        await behaviour.buffer.flush()


def compare_settings(url: str, mode: str, left_out: str) -> Settings:
    """The ``on`` runtime counts metrics and writes behaviour events; ``off`` leaves out what
    ``--compare-off`` names (``none``: nothing, an A/A run)."""
    off = mode == "off"
    return load_settings(
        database_url=url,
        metrics=MetricsSettings(enabled=not (off and left_out in ("metrics", "both"))),
        analytics=AnalyticsSettings(enabled=not (off and left_out in ("events", "both"))),
    )


async def compare_worker(args: argparse.Namespace) -> None:
    """One side of the on/off comparison, in its own process (see ``bench/_lockstep.py``): warm up,
    then run a round of journeys for each ``round`` line on stdin and report this process's CPU."""
    runtime = await build_runtime(compare_settings(args.compare_url, args.compare_worker, args.compare_off))
    loop = asyncio.get_running_loop()
    commands = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(commands), sys.stdin)
    try:
        await runtime.refresh_catalogue()
        settle_heap(runtime)
        await level(runtime, 1, 2)  # prepared statements, jieba, the NLU model
        for _ in range(2):  # caches, pools at size, the allocator's arenas
            await level(runtime, args.compare_concurrency, args.compare_journeys)
            await _flush_events(runtime)
        report(cpu_ms=own_cpu_ms(), turns=0)
        while (await commands.readline()).strip() == b"round":
            # no flush per round: the events are written when production would write them (every
            # ``SHOPBOT_ANALYTICS_FLUSH_SECONDS`` or once ``BATCH_SIZE`` wait, the same settings), by the
            # buffer's own task; a write that runs while this worker waits for its next round is billed
            # to that round (CPU is cumulative), so every write is counted (read the pooled ratio: a
            # median of rounds sees a write only in the rounds that paid for it). A flush after every
            # round of 40 turns (~0.2 s apart in lockstep) wrote about ten times as often as production
            figures = await level(runtime, args.compare_concurrency, args.compare_journeys)
            report(cpu_ms=own_cpu_ms(), turns=figures["turns"])
    finally:
        await runtime.aclose()


async def compare_metrics(url: str, args: argparse.Namespace) -> dict[str, object]:
    """Start the ``on`` and ``off`` workers on the seeded database and run them in lockstep."""
    common = [
        "--compare-url",
        url,
        "--compare-off",
        args.compare_off,
        "--compare-concurrency",
        str(args.compare_concurrency),
        "--compare-journeys",
        str(args.compare_journeys),
    ]
    on = await Worker.start("on", SCRIPT, ["--compare-worker", "on", *common])
    off = await Worker.start("off", SCRIPT, ["--compare-worker", "off", *common])
    try:
        await asyncio.gather(on.ready(), off.ready())
        figures = await lockstep(on, off, args.compare_rounds)
    finally:
        await asyncio.gather(on.stop(), off.stop())
    return {**figures, "concurrency": args.compare_concurrency}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--journeys", type=int, default=200, help="journeys at the highest level")
    parser.add_argument("--levels", default="1,10,100", help="concurrency levels ('' for none)")
    parser.add_argument(
        "--rates",
        default="100,250,500,750",
        help="offered turns/s for 100 paced conversations ('' for none)",
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="how long each paced level runs")
    parser.add_argument(
        "--compare-rounds", type=int, default=300, help="metrics on/off round pairs (0: none)"
    )
    parser.add_argument("--compare-concurrency", type=int, default=5)
    parser.add_argument(
        "--compare-journeys",
        type=int,
        default=5,
        help="journeys per mode per round (short rounds: the two halves of a pair see the same machine)",
    )
    parser.add_argument(
        "--compare-off",
        choices=("both", "metrics", "events", "none"),
        default="both",
        help="what the 'off' runtime leaves out (both: the target's comparison; one: to find the cost; "
        "none: an A/A run, two identical runtimes, to see the noise)",
    )
    parser.add_argument("--compare-worker", choices=("on", "off"), help=argparse.SUPPRESS)
    parser.add_argument("--compare-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.compare_worker:
        await compare_worker(args)
        return
    settings = load_settings()
    results = []
    paced_results = []
    compared: dict[str, object] = {}
    async with scratch_database(settings) as url:
        runtime = await build_runtime(load_settings(database_url=url))
        try:
            await seed(runtime, 20)
            settle_heap(runtime)  # as `shopbot serve` does once it has started
            await level(runtime, 1, 2)  # warm-up: prepared statements, jieba, the NLU model
            for concurrency in (int(x) for x in args.levels.split(",") if x.strip()):
                journeys = max(concurrency * 2, min(args.journeys, concurrency * 10))
                results.append(await level(runtime, concurrency, journeys))
            for rate in (float(x) for x in args.rates.split(",") if x.strip()):
                paced_results.append(await paced(runtime, 100, rate, args.seconds))
        finally:
            await runtime.aclose()
        if args.compare_rounds:  # after the seeding runtime has closed: nothing else of ours runs
            compared = await compare_metrics(url, args)
    print(
        f"Whole journeys ({len(JOURNEY)} turns each) through the pipeline on {settings.db_url.split('+')[0]} "
        f"and {settings.redis_url.split('://')[0]}:"
    )
    for r in results:
        print(
            f"  {r['concurrency']:>4} concurrent: {r['turns']:>5} turns, {r['turns_per_s']:>7} turns/s, "
            f"p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, {r['process_cpu_ms_per_turn']} ms CPU/turn"
        )
    print(f"100 open conversations, each sending a turn every 100/rate s ({args.seconds:g} s measured):")
    for r in paced_results:
        print(
            f"  offered {r['offered_turns_per_s']:>5} turns/s: achieved {r['turns_per_s']:>6}, "
            f"p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms"
        )
    print("  target at 100 concurrent conversations: >= 500 turns/s with p99 <= 50 ms")
    if compared:
        print(
            f"Metrics and behaviour events on vs {args.compare_off} off ({compared['rounds']} alternating "
            "rounds of "
            f"{args.compare_journeys} journeys "
            f"at {compared['concurrency']} concurrent, {compared['turns_per_mode']} turns):"
        )
        print(
            f"  process CPU per turn: on {compared['cpu_ms_per_turn_on']} ms, "
            f"off {compared['cpu_ms_per_turn_off']} ms, "
            f"overhead {compared['cpu_overhead_pct']} % pooled, "
            f"{compared['cpu_overhead_pct_median_of_rounds']} % median of the rounds' ratios "
            f"(95 % CI {compared['cpu_overhead_pct_ci95']}), "
            f"{compared['cpu_overhead_pct_trimmed_mean']} % trimmed mean (target <= 3 %)"
        )
        print(f"  load average at the end: {compared['load_average']}")
        print(f"  per round (ms CPU/turn): {compared['cpu_ms_per_turn_by_round']}")
    emit_json(
        {
            "database": settings.db_url.split("+")[0],
            "redis": settings.redis_url.split("://")[0],
            "levels": results,
            "paced": paced_results,
            "metrics_on_vs_off": {**compared, "off": args.compare_off} if compared else compared,
        }
    )


if __name__ == "__main__":
    import uvloop

    uvloop.run(main())
