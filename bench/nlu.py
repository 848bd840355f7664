"""Benchmark of the built-in NLU: training time, parse latency, throughput and memory.

A script for people (``python bench/nlu.py``), not a test. It trains into a fresh temporary cache so
training time is real, then parses a mixed set of utterances (zh-Hans, zh-Hant, en, mixed, entities)
on one core. The last line is one JSON object with the same figures for machines.

The interpreter remembers short messages it has seen (``PARSE_CACHE``); the bench's 20 utterances
repeat, so the main figures are taken with that memory off, measuring the parse itself. One more
line gives the throughput when every message is a repeat (remembered).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nlu import SAMPLE_CATALOGUE, BuiltinInterpreter, Hints
from nlu.interpreter import PARSE_CACHE
from nlu.tokenize import Tokenizer
from nlu.training import load_or_train

UTTERANCES = [
    "这件有M码吗",
    "這件有沒有紅色",
    "2 of the red ones pls",
    "我要两件红色的L码，100元以下",
    "where is my order SB7K3M9Q2XAB",
    "快递单号SF1234567890123到哪了",
    "can I pay with alipay?",
    "帮我取消订单",
    "i want to return the shoes, they're too small",
    "what's the weather like in Shanghai tomorrow",
    "有没有耐克的跑鞋 200到300块",
    "the second one in navy, size 42",
    "转人工",
    "hi",
    "谢谢你的帮助！",
    "I'd like to change my shipping address to 88 Nanjing Road",
    "我想买 Nike 的 running shoes",
    "小米手环8多少钱",
    "tell me a joke",
    "电话改成+86 138 1234 5678",
]


def rss_mb() -> float:
    """Peak resident memory of this process in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        tokenizer = Tokenizer()
        tokenizer.tokens("预热")  # jieba's dictionary load is start-up cost, not training
        started = time.perf_counter()
        result = load_or_train(cache, tokenizer=tokenizer)
        train_s = time.perf_counter() - started
        started = time.perf_counter()
        interpreter = BuiltinInterpreter.load(cache, SAMPLE_CATALOGUE)
        load_s = time.perf_counter() - started

    interpreter.parse_cache = 0  # measure parsing, not remembering (see the module docstring)
    for text in UTTERANCES:  # warm caches
        interpreter.parse_sync(text)
    hints = [Hints(), Hints(expected_slot="quantity"), Hints(lang="zh-Hans")]
    latencies = []
    cpu_latencies = []  # CPU time of this thread: what a parse costs when the core is not shared
    rounds = 150
    wall = time.perf_counter()
    cpu = time.thread_time()
    for i in range(rounds):
        for j, text in enumerate(UTTERANCES):
            t0, c0 = time.perf_counter(), time.thread_time()
            interpreter.parse_sync(text, hints[(i + j) % 3])
            cpu_latencies.append(time.thread_time() - c0)
            latencies.append(time.perf_counter() - t0)
    wall = time.perf_counter() - wall
    cpu = time.thread_time() - cpu
    interpreter.parse_cache = PARSE_CACHE
    remembered_cpu = time.thread_time()
    for i in range(rounds):
        for j, text in enumerate(UTTERANCES):
            interpreter.parse_sync(text, hints[(i + j) % 3])
    remembered_cpu = time.thread_time() - remembered_cpu
    latencies.sort()
    cpu_latencies.sort()
    cpu_p99 = cpu_latencies[int(len(cpu_latencies) * 0.99) - 1] * 1000
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    figures = {
        "train_seconds": round(train_s, 2),
        "load_cached_seconds": round(load_s, 3),
        "examples": len(result.examples),
        "features": len(result.model.vocabulary),
        "parses": len(latencies),
        "p50_ms": round(p50, 3),
        "p99_ms": round(p99, 3),
        "utterances_per_second": round(len(latencies) / wall),
        "cpu_p99_ms": round(cpu_p99, 3),
        "utterances_per_cpu_second": round(len(latencies) / cpu),
        "remembered_utterances_per_cpu_second": round(len(latencies) / remembered_cpu),
        "max_rss_mb": round(rss_mb(), 1),
    }
    print(f"training: {train_s:.2f} s on {figures['examples']} examples ({figures['features']} features)")
    print(f"loading the cached model + catalogue: {load_s * 1000:.0f} ms")
    print(f"parse latency over {len(latencies)} parses: p50 {p50:.3f} ms, p99 {p99:.3f} ms")
    print(f"throughput (one core): {figures['utterances_per_second']} utterances/s")
    print(
        f"on CPU time (unaffected by other load on the machine): p99 {cpu_p99:.3f} ms, "
        f"{figures['utterances_per_cpu_second']} utterances per CPU second"
    )
    print(
        f"repeated messages (remembered): {figures['remembered_utterances_per_cpu_second']} utterances "
        "per CPU second"
    )
    print(f"peak resident memory: {figures['max_rss_mb']} MiB")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
