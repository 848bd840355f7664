"""``shopbot nlu ...`` as a user runs it (Typer's test runner, the session's model cache)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.nlu import app
from nlu import BuiltinInterpreter

runner = CliRunner()


@pytest.fixture(scope="module")
def cache(nlu_cache: Path, interpreter: BuiltinInterpreter) -> str:
    return str(nlu_cache)  # the interpreter fixture has trained into this directory


def test_train_reports_counts_and_reuses_the_cache(cache: str) -> None:
    result = runner.invoke(app, ["train", "--cache-dir", cache])
    assert result.exit_code == 0, result.output
    assert "cache is current" in result.output
    line = next(x for x in result.output.splitlines() if x.startswith("add_to_cart"))
    en, zh = map(int, line.split()[1:])
    assert en >= 40 and zh >= 40


def test_parse_prints_one_json_object(cache: str) -> None:
    result = runner.invoke(app, ["parse", "這件有沒有紅色", "--cache-dir", cache])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["text"] == "這件有沒有紅色"
    assert out["lang"] == "zh-Hant"
    assert out["intent"] == "product_details"
    assert {"type": "color", "value": "red", "start": 5, "end": 7, "text": "紅色"} in out["entities"]
    assert len(out["ranking"]) == 3


def test_parse_jsonl_answers_every_line_in_order(cache: str) -> None:
    lines = [
        json.dumps({"text": "2 of the red ones pls"}),
        "not json",
        json.dumps({"text": "2", "expected_slot": "quantity"}),
        json.dumps({"text": "\ud800"}),
        json.dumps({"no_text": 1}),
        json.dumps({"text": "我要退款"}),
    ]
    result = runner.invoke(app, ["parse", "--jsonl", "--cache-dir", cache], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in result.output.splitlines()]
    assert len(rows) == 6
    assert rows[0]["intent"] == "add_to_cart"
    assert "error" in rows[1] and "error" in rows[4]
    assert rows[2]["intent"] == "inform" and rows[2]["entities"][0]["value"] == 2
    assert rows[3]["intent"] == "out_of_scope"
    assert rows[5]["intent"] == "return_refund"


def test_eval_summarises_accuracy_and_rejection(cache: str, tmp_path: Path) -> None:
    rows = [
        {"text": "我想退货", "label": "return_refund", "also": [], "lang": "zh"},
        {"text": "where is my parcel", "label": "order_status", "also": [], "lang": "en"},
        {"text": "can someone call me back", "label": "human_agent", "also": ["help"], "lang": "en"},
        {"text": "what's the capital of peru", "label": "out_of_scope", "also": [], "lang": "en"},
        {"text": "明天会下雪吗", "label": "out_of_scope", "also": [], "lang": "zh"},
    ]
    path = tmp_path / "mini.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["eval", str(path), "--json", "--cache-dir", cache])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])["files"][0]
    assert summary["in_scope_rows"] == 3 and summary["oos_rows"] == 2
    assert summary["in_scope_accuracy"] == 1.0
    assert summary["oos_recall"] == 1.0
    assert set(summary["per_intent"]) >= {"return_refund", "order_status", "human_agent", "out_of_scope"}

    human = runner.invoke(app, ["eval", str(path), "--cache-dir", cache])
    assert "in-scope accuracy: 1.000" in human.output
