"""The training data itself: format, coverage and consistency with the extractors."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import yaml

from nlu import INTENTS, BuiltinInterpreter
from nlu.data import DATA_DIR, data_files, load_examples, parse_markup

EVAL_DIR = Path("/work/shared/eval")


def test_files_are_rasa_nlu_3_1() -> None:
    for path in data_files():
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert doc["version"] == "3.1", path
        assert all("intent" in block and "examples" in block for block in doc["nlu"]), path


def test_every_intent_has_at_least_40_examples_per_language() -> None:
    per_lang: Counter[tuple[str, str]] = Counter()
    for path in data_files():
        lang = path.stem.rsplit("_", 1)[-1]  # files are named <topic>_<en|zh>.yml
        for ex in load_examples([path]):
            per_lang[(ex.intent, lang)] += 1
    for intent in INTENTS:
        for lang in ("en", "zh"):
            assert per_lang[(intent, lang)] >= 40, (intent, lang)
    assert per_lang[("out_of_scope", "en")] >= 300 and per_lang[("out_of_scope", "zh")] >= 300


def test_markup_parsing() -> None:
    text, ann = parse_markup('要[两件](quantity)[M]{"entity": "size", "value": "M"}的')
    assert text == "要两件M的"
    assert [(a.type, a.value, text[a.start : a.end]) for a in ann] == [
        ("quantity", None, "两件"),
        ("size", "M", "M"),
    ]


def test_extractors_find_what_the_training_data_marks_up(interpreter: BuiltinInterpreter) -> None:
    checked = {"quantity", "color", "size", "order_number", "tracking_number", "phone", "ordinal", "price"}
    hits: Counter[str] = Counter()
    total: Counter[str] = Counter()
    misses = []
    for ex in load_examples(data_files()):
        got = interpreter.parse_sync(ex.text).entities
        for a in ex.entities:
            if a.type in checked:
                total[a.type] += 1
                # the markup may include or leave out a word around the value ("size L" vs "L")
                if any(e.type == a.type and e.start < a.end and a.start < e.end for e in got):
                    hits[a.type] += 1
                else:
                    misses.append((ex.text, a.type, ex.text[a.start : a.end]))
    for type_ in checked:
        assert total[type_] >= 3, type_
        assert hits[type_] / total[type_] >= 0.85, (type_, [m for m in misses if m[1] == type_])


@pytest.mark.skipif(not EVAL_DIR.is_dir(), reason="evaluation data not available")
def test_no_evaluation_utterance_is_copied_into_training_data_or_tests() -> None:
    eval_texts = set()
    for path in EVAL_DIR.glob("*.jsonl"):
        for line in path.open(encoding="utf-8"):
            eval_texts.add(json.loads(line)["text"].strip().lower())
    ours = [e.text.strip().lower() for e in load_examples(data_files(DATA_DIR))]
    copied = [t for t in ours if t in eval_texts and len(t) >= 12]  # the repository hook's rule
    assert copied == []
