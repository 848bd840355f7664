"""Two benchmark workers in lockstep, each measuring its own process CPU: an honest on/off comparison.

Why not two runtimes in one process: process CPU is one counter for the whole process, so the idle
runtime's background work (timers, the outbox relay, the event writer, job loops, the cycle collector
walking the other's garbage) lands in whichever runtime's round happens to be running. A/A runs (two
identical runtimes) then came out anywhere between -5 % and +9 %, wider than the 3 % being checked.

Here each configuration is its own process (``python bench/turns.py --compare-worker ...``), started
with the same hash seed and warmed up alike. The parent tells one worker at a time to run a round and
waits for it, so only one works while the other sleeps; the order alternates ABBA (on off, off on,
...) so drift of the machine's speed falls on both alike. Each worker reports its *cumulative* CPU
(``resource.getrusage(RUSAGE_SELF)``, user + system) after each round; a round's cost is the
difference from its previous report, so everything the process did since (its own background work
while idle included) is billed to it and nothing of the other's is. Each pair of rounds gives one
ratio on/off; the figure is the median of those ratios with a distribution-free 95 % confidence
interval (order statistics of the binomial), and the pooled ratio of the sums beside it.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import resource
import statistics
import sys
from pathlib import Path

MARK = "@@lockstep "  # protocol lines on the worker's stdout start with this (logs go to stderr)


def own_cpu_ms() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return (usage.ru_utime + usage.ru_stime) * 1000


def report(**fields: object) -> None:
    print(MARK + json.dumps(fields), flush=True)


class Worker:
    """One ``--compare-worker`` subprocess, driven round by round over stdin/stdout."""

    def __init__(self, name: str, process: asyncio.subprocess.Process) -> None:
        self.name, self.process = name, process
        self.last_cpu_ms = 0.0

    @classmethod
    async def start(cls, name: str, script: Path, args: list[str]) -> Worker:
        env = {**os.environ, "PYTHONHASHSEED": "0"}  # same dict layouts in both processes
        # both on the same CPU (they take turns, so they never compete for it): otherwise each tends to
        # stay on the CPU it started on, and one CPU busier with other work made one worker a few %
        # dearer for a whole run (A/A runs came out at -3 % and +6 % with CIs excluding zero)
        cpu = max(os.sched_getaffinity(0))
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(script),
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
            preexec_fn=lambda: os.sched_setaffinity(0, {cpu}),
        )
        return cls(name, process)

    async def reply(self) -> dict[str, float]:
        assert self.process.stdout is not None
        while True:
            line = (await self.process.stdout.readline()).decode()
            if not line:
                raise RuntimeError(f"compare worker {self.name!r} exited ({await self.process.wait()})")
            if line.startswith(MARK):
                fields: dict[str, float] = json.loads(line[len(MARK) :])
                return fields

    async def ready(self) -> None:
        self.last_cpu_ms = (await self.reply())["cpu_ms"]

    async def round(self) -> tuple[int, float]:
        """Run one round; return its turns and the CPU the process spent since its last report."""
        assert self.process.stdin is not None
        self.process.stdin.write(b"round\n")
        await self.process.stdin.drain()
        fields = await self.reply()
        spent, self.last_cpu_ms = fields["cpu_ms"] - self.last_cpu_ms, fields["cpu_ms"]
        return int(fields["turns"]), spent

    async def stop(self) -> None:
        if self.process.returncode is None and self.process.stdin is not None:
            self.process.stdin.close()
            try:
                await asyncio.wait_for(self.process.wait(), 60)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


def median_ci(values: list[float], confidence: float = 0.95) -> tuple[float, float]:
    """Distribution-free confidence interval of the median: the order statistics k and n-1-k, k the
    largest with P(Binomial(n, 1/2) < k+1) <= (1 - confidence) / 2."""
    ordered, n = sorted(values), len(values)
    tail, k, cumulative = (1 - confidence) / 2, -1, 0.0
    for i in range(n):
        cumulative += math.comb(n, i) / 2**n
        if cumulative > tail:
            break
        k = i
    if k < 0:
        return ordered[0], ordered[-1]
    return ordered[k], ordered[n - 1 - k]


async def lockstep(on: Worker, off: Worker, rounds: int) -> dict[str, object]:
    """``rounds`` pairs of rounds in ABBA order; figures in ms CPU per turn and % overhead of on."""
    per_round: dict[str, list[float]] = {"on": [], "off": []}
    totals = {"on": [0, 0.0], "off": [0, 0.0]}
    for n in range(rounds):
        order = (("on", on), ("off", off)) if n % 2 == 0 else (("off", off), ("on", on))
        for mode, worker in order:
            turns, cpu_ms = await worker.round()
            totals[mode][0] += turns
            totals[mode][1] += cpu_ms
            per_round[mode].append(round(cpu_ms / turns, 3))
    ratios = [a / b for a, b in zip(per_round["on"], per_round["off"], strict=True)]
    low, high = median_ci(ratios)
    per_turn = {mode: round(cpu / turns, 3) for mode, (turns, cpu) in totals.items()}
    trimmed = sorted(ratios)[len(ratios) // 10 : len(ratios) - len(ratios) // 10]
    return {
        "rounds": rounds,
        "turns_per_mode": {mode: int(t[0]) for mode, t in totals.items()},
        "cpu_ms_per_turn_on": per_turn["on"],
        "cpu_ms_per_turn_off": per_turn["off"],
        "cpu_ms_per_turn_by_round": per_round,
        "cpu_overhead_pct": round((per_turn["on"] / per_turn["off"] - 1) * 100, 2),
        "cpu_overhead_pct_median_of_rounds": round((statistics.median(ratios) - 1) * 100, 2),
        "cpu_overhead_pct_ci95": [round((low - 1) * 100, 2), round((high - 1) * 100, 2)],
        "cpu_overhead_pct_trimmed_mean": round((statistics.fmean(trimmed) - 1) * 100, 2),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
