"""Measuring the interpreter on labelled JSON lines (``{"text", "label", "also", "lang"}``).

A prediction is correct when it equals ``label`` or is listed in ``also``. ``out_of_scope`` rows
measure rejection: the bot must answer with ``out_of_scope``. In-scope accuracy is computed on the
other rows only, so a file mostly made of out-of-scope chatter does not hide a weak shopping model.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from nlu.types import OUT_OF_SCOPE


@dataclass(frozen=True)
class LabelledRow:
    """One evaluation utterance."""

    text: str
    label: str
    also: tuple[str, ...] = ()
    lang: str | None = None


@dataclass
class Report:
    """Figures for one file (or several pooled)."""

    name: str
    rows: int = 0
    in_scope_rows: int = 0
    in_scope_correct: int = 0
    oos_rows: int = 0
    oos_rejected: int = 0
    per_intent: dict[str, dict[str, float]] = field(default_factory=dict)
    macro_f1: float = 0.0
    confusions: list[tuple[str, str, int]] = field(default_factory=list)

    @property
    def in_scope_accuracy(self) -> float | None:
        return self.in_scope_correct / self.in_scope_rows if self.in_scope_rows else None

    @property
    def oos_recall(self) -> float | None:
        return self.oos_rejected / self.oos_rows if self.oos_rows else None

    def to_dict(self) -> dict[str, object]:
        acc, rec = self.in_scope_accuracy, self.oos_recall
        return {
            "file": self.name,
            "rows": self.rows,
            "in_scope_rows": self.in_scope_rows,
            "in_scope_accuracy": None if acc is None else round(acc, 4),
            "oos_rows": self.oos_rows,
            "oos_recall": None if rec is None else round(rec, 4),
            "macro_f1": round(self.macro_f1, 4),
            "per_intent": self.per_intent,
            "top_confusions": [{"label": a, "predicted": b, "count": n} for a, b, n in self.confusions],
        }


def read_rows(path: Path) -> list[LabelledRow]:
    """Rows of a JSON-lines evaluation file (blank lines skipped)."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            rows.append(LabelledRow(d["text"], d["label"], tuple(d.get("also") or ()), d.get("lang")))
    return rows


def evaluate(
    name: str, rows: Iterable[LabelledRow], predict: Callable[[str], str], top_confusions: int = 10
) -> Report:
    """Run ``predict`` on every row and compute the figures."""
    report = Report(name)
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    confusions: Counter[tuple[str, str]] = Counter()
    gold_labels: set[str] = set()
    for row in rows:
        report.rows += 1
        pred = predict(row.text)
        correct = pred == row.label or pred in row.also
        gold_labels.add(row.label)
        if row.label == OUT_OF_SCOPE:
            report.oos_rows += 1
            report.oos_rejected += pred == OUT_OF_SCOPE
        else:
            report.in_scope_rows += 1
            report.in_scope_correct += correct
        if correct:
            tp[row.label] += 1
        else:
            fp[pred] += 1
            fn[row.label] += 1
            confusions[(row.label, pred)] += 1
    f1s = []
    for label in sorted(gold_labels | set(fp)):
        p_den, r_den = tp[label] + fp[label], tp[label] + fn[label]
        precision = tp[label] / p_den if p_den else 0.0
        recall = tp[label] / r_den if r_den else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        report.per_intent[label] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": r_den,
        }
        if label in gold_labels:
            f1s.append(f1)
    report.macro_f1 = sum(f1s) / len(f1s) if f1s else 0.0
    report.confusions = [(a, b, n) for (a, b), n in confusions.most_common(top_confusions)]
    return report


def format_report(report: Report) -> str:
    """Human-readable summary."""
    acc, rec = report.in_scope_accuracy, report.oos_recall
    lines = [f"== {report.name}: {report.rows} rows"]
    if acc is not None:
        lines.append(f"in-scope accuracy: {acc:.3f} ({report.in_scope_correct}/{report.in_scope_rows})")
    if rec is not None:
        lines.append(f"out-of-scope recall: {rec:.3f} ({report.oos_rejected}/{report.oos_rows})")
    lines.append(f"macro-F1 (gold intents): {report.macro_f1:.3f}")
    lines.append(f"{'intent':<18}{'prec':>7}{'recall':>8}{'f1':>7}{'n':>7}")
    for label, m in sorted(report.per_intent.items()):
        lines.append(
            f"{label:<18}{m['precision']:>7.3f}{m['recall']:>8.3f}{m['f1']:>7.3f}{int(m['support']):>7}"
        )
    if report.confusions:
        lines.append("most frequent confusions (label -> predicted: count):")
        lines.extend(f"  {a} -> {b}: {n}" for a, b, n in report.confusions)
    return "\n".join(lines)
