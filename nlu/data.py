"""Training data: Rasa NLU YAML (version "3.1") files under ``nlu/data``.

We keep Rasa's format so the same files can train a Rasa server (the HTTP backend) and our built-in
classifier, and so contributors can use Rasa's documentation. Entity markup ``[红色](color)`` and
``[M]{"entity": "size", "value": "M"}`` is parsed: the classifier sees the plain text, the tests check
the extractors against the annotations.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from nlu.types import JsonValue

DATA_DIR = Path(__file__).parent / "data"

_MARKUP = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<type>[^)]+)\)|(?P<json>\{[^}]*\}))")
_HAN = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True, slots=True)
class Annotation:
    """An entity marked up in a training example; offsets index the plain text."""

    type: str
    value: JsonValue
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Example:
    """One training utterance."""

    text: str
    intent: str
    lang: str
    entities: tuple[Annotation, ...] = ()
    source: str = ""


def parse_markup(line: str) -> tuple[str, tuple[Annotation, ...]]:
    """Plain text and annotations of one Rasa example line."""
    out: list[str] = []
    annotations: list[Annotation] = []
    pos = 0
    length = 0
    for m in _MARKUP.finditer(line):
        before = line[pos : m.start()]
        out.append(before)
        length += len(before)
        surface = m.group("text")
        if m.group("type"):
            type_, value = m.group("type"), None
        else:
            spec = json.loads(m.group("json"))
            type_, value = str(spec["entity"]), spec.get("value")
        annotations.append(Annotation(type_, value, length, length + len(surface)))
        out.append(surface)
        length += len(surface)
        pos = m.end()
    out.append(line[pos:])
    return "".join(out), tuple(annotations)


def example_lang(text: str) -> str:
    """Language bucket for counting: ``zh`` when the example has any Chinese character, else ``en``."""
    return "zh" if _HAN.search(text) else "en"


def load_file(path: Path) -> list[Example]:
    """Examples of one Rasa NLU YAML file."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out: list[Example] = []
    for block in doc.get("nlu") or []:
        intent = block.get("intent")
        if not intent:
            continue
        for raw in str(block.get("examples", "")).splitlines():
            line = raw.strip()
            if not line.startswith("- "):
                continue
            text, annotations = parse_markup(line[2:].strip())
            if text:
                out.append(Example(text, str(intent), example_lang(text), annotations, path.name))
    return out


def data_files(data_dir: Path = DATA_DIR) -> list[Path]:
    """The training files, in a stable order (it feeds the cache key)."""
    return sorted(p for p in data_dir.rglob("*.yml") if p.is_file())


def load_examples(files: Iterable[Path]) -> list[Example]:
    """All examples from ``files``; duplicates (same text and intent) are kept once."""
    seen: set[tuple[str, str]] = set()
    out: list[Example] = []
    for path in files:
        for ex in load_file(path):
            key = (ex.text, ex.intent)
            if key not in seen:
                seen.add(key)
                out.append(ex)
    return out


def counts(examples: Iterable[Example]) -> dict[str, dict[str, int]]:
    """``{intent: {lang: n}}`` for reports."""
    c: Counter[tuple[str, str]] = Counter((e.intent, e.lang) for e in examples)
    out: dict[str, dict[str, int]] = {}
    for (intent, lang), n in sorted(c.items()):
        out.setdefault(intent, {})[lang] = n
    return out
