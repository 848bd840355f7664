"""Finding 8 on the command line: a bad line in ``shopbot nlu parse --jsonl`` (a non-string
``expected_slot``, deep JSON, a huge line) gets an error line and the run goes on."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from bot.cli.nlu import app
from tests.runtime_support import NLU_CACHE


def test_bad_lines_get_error_lines_and_the_run_goes_on(interpreter: object) -> None:
    lines = [
        json.dumps({"text": "2", "expected_slot": ["quantity"]}),
        json.dumps({"text": "hi", "lang": 7}),
        '{"text": ' + "[" * 5_000 + "]" * 5_000 + "}",
        "[" * 10_000,
        json.dumps({"text": "x" * 20_000}),
        json.dumps({"text": "\x00²³ 红色\x07"}),
        json.dumps({"text": "2", "expected_slot": "quantity"}),
    ]
    result = CliRunner().invoke(
        app, ["parse", "--jsonl", "--cache-dir", str(NLU_CACHE)], input="\n".join(lines) + "\n"
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in result.output.splitlines()]
    assert len(rows) == len(lines)
    assert all("error" in row for row in rows[:5]), rows[:5]
    assert "'expected_slot' must be a string" in rows[0]["error"]
    assert "deeper" in rows[2]["error"] and "deeper" in rows[3]["error"]
    assert "intent" in rows[5]
    assert rows[6]["intent"] == "inform" and rows[6]["entities"][0]["value"] == 2
