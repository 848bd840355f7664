"""What the deployment files may name: the series and labels of the app's real metrics registry."""

from __future__ import annotations

import re
from pathlib import Path

from prometheus_client.metrics import MetricWrapperBase

from bot.observability.metrics import SERIES_SUFFIXES, Metrics

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SERIES = re.compile(r"\b(shopbot_[a-z0-9_]+)\b")
GROUPING = re.compile(r"\bby\s*\(([^)]*)\)")


def exported() -> tuple[set[str], dict[str, set[str]]]:
    """(every series name a scrape shows, label names per series) from a fresh app registry."""
    metrics = Metrics()
    labels: dict[str, set[str]] = {}
    for metric in vars(metrics).values():
        if isinstance(metric, MetricWrapperBase):
            names = {metric._name} | {metric._name + s for s in SERIES_SUFFIXES.get(metric._type, ())}
            extra = {"le"} if metric._type == "histogram" else set()
            for name in names:
                labels[name] = set(metric._labelnames) | extra
    assert set(labels) == metrics.series_names()  # every series of the registry, nothing invented
    return metrics.series_names(), labels


def problems_in(expression: str) -> list[str]:
    """What in a PromQL expression the app does not export: unknown series, grouping by a label
    none of its series has, or no shopbot series at all."""
    names, labels = exported()
    used = SERIES.findall(expression)
    if not used:
        return [f"names no shopbot series: {expression}"]
    found = [f"unknown series {name}" for name in used if name not in names]
    known = set().union(*(labels.get(name, set()) for name in used))
    for group in GROUPING.findall(expression):
        grouped = (label.strip() for label in group.split(","))
        found += [f"unknown label {label}" for label in grouped if label and label not in known]
    return found
