"""Process CPU per turn and per order of two checkouts, measured interleaved on the same servers.

Why: a refactoring must not make the hot paths dearer, and CPU per operation on a 2-core machine
drifts by 10-20 % between minutes (frequency, the database server's load). Interleaving the runs
(base, head, base, head, ...) and taking medians puts both checkouts under the same drift.

    SHOPBOT_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
    SHOPBOT_REDIS_URL=redis://127.0.0.1:6379/14 \\
    python bench/compare.py --base-dir ../shopbot-base --runs 3

``--base-dir`` is another checkout (``git worktree add ../shopbot-base <commit>``) whose
``bench/turns.py`` prints ``process_cpu_ms_per_turn``; each checkout runs its own bench scripts with
its own code (``PYTHONPATH`` set to it). Prints both medians and their ratio, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def run(tree: Path, script: str, args: list[str]) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, str(tree / "bench" / script), *args],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def cpu_per_turn(tree: Path, journeys: int) -> float:
    figures = run(tree, "turns.py", ["--levels", "100", "--journeys", str(journeys), "--rates", ""])
    levels = figures["levels"]
    assert isinstance(levels, list)
    return float(levels[-1]["process_cpu_ms_per_turn"])


def cpu_per_order(tree: Path) -> float:
    figures = run(tree, "checkout.py", ["--buyers", "200", "--units", "20"])
    throughput = figures["throughput"]
    assert isinstance(throughput, dict)
    return float(throughput["process_cpu_ms_per_order"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-dir", type=Path, required=True)
    parser.add_argument("--head-dir", type=Path, default=HERE)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--journeys", type=int, default=200)
    args = parser.parse_args()
    trees = {"base": args.base_dir.resolve(), "head": args.head_dir.resolve()}
    turns: dict[str, list[float]] = {name: [] for name in trees}
    orders: dict[str, list[float]] = {name: [] for name in trees}
    for round_no in range(args.runs):
        for name, tree in trees.items():
            turns[name].append(cpu_per_turn(tree, args.journeys))
            orders[name].append(cpu_per_order(tree))
            print(
                f"round {round_no + 1} {name}: {turns[name][-1]:.3f} ms CPU/turn, "
                f"{orders[name][-1]:.3f} ms CPU/order",
                flush=True,
            )
    medians = {
        f"{name}_{what}": round(statistics.median(values[name]), 3)
        for name in trees
        for what, values in (("cpu_ms_per_turn", turns), ("cpu_ms_per_order", orders))
    }
    turn_ratio = medians["head_cpu_ms_per_turn"] / medians["base_cpu_ms_per_turn"]
    order_ratio = medians["head_cpu_ms_per_order"] / medians["base_cpu_ms_per_order"]
    print(
        f"medians of {args.runs}: per turn base {medians['base_cpu_ms_per_turn']} ms, "
        f"head {medians['head_cpu_ms_per_turn']} ms ({turn_ratio - 1:+.1%}); per order base "
        f"{medians['base_cpu_ms_per_order']} ms, head {medians['head_cpu_ms_per_order']} ms "
        f"({order_ratio - 1:+.1%})"
    )
    print(
        json.dumps(
            {
                **medians,
                "turn_ratio": round(turn_ratio, 3),
                "order_ratio": round(order_ratio, 3),
                "runs": args.runs,
                "turns": turns,
                "orders": orders,
            }
        )
    )


if __name__ == "__main__":
    main()
