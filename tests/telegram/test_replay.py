"""``shopbot replay telegram``: every fixture through the whole pipeline, Bot API calls as JSON lines."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.channels.telegram.cli import load_update, replay_updates
from bot.cli import app
from bot.runtime import Runtime
from nlu import BuiltinInterpreter
from tests.conftest import TEST_KEYS
from tests.telegram.conftest import FIXTURES


async def test_replay_every_fixture_without_errors(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    files = sorted(FIXTURES.rglob("*.json"))
    updates = [load_update(path, 2_000_000 + n) for n, path in enumerate(files)]
    calls = await replay_updates(runtime, updates)
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    methods = {c.method for c in calls}
    assert "sendMessage" in methods and "answerCallbackQuery" in methods
    assert all(len(str(c.params.get("text", ""))) <= 4096 for c in calls)


def test_replay_cli_prints_one_json_line_per_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, interpreter: BuiltinInterpreter
) -> None:
    monkeypatch.setenv("SHOPBOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SHOPBOT_ENCRYPTION_KEYS", TEST_KEYS[0])
    monkeypatch.setattr("bot.bootstrap.make_interpreter", lambda settings: interpreter)
    update = tmp_path / "hello.json"
    update.write_text(
        json.dumps(
            {
                "message_id": 1,
                "date": 1,
                "chat": {"id": 5, "type": "private"},
                "from": {"id": 5, "is_bot": False, "first_name": "A"},
                "text": "hello",
            }
        )
    )
    result = CliRunner().invoke(app, ["replay", "telegram", str(update)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.strip().splitlines()]
    assert lines and lines[0]["method"] == "sendMessage" and lines[0]["params"]["chat_id"] == 5


def test_replay_on_a_fresh_data_dir_searches_the_demo_catalogue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, interpreter: BuiltinInterpreter
) -> None:
    """Like ``shopbot chat``, the replay seeds the demo catalogue into an empty database, so a replayed
    search shows products instead of "nothing found" (R1.1-1: a newcomer's first minute)."""
    monkeypatch.setenv("SHOPBOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SHOPBOT_ENCRYPTION_KEYS", TEST_KEYS[0])
    monkeypatch.setattr("bot.bootstrap.make_interpreter", lambda settings: interpreter)
    update = tmp_path / "search.json"
    message = {"message_id": 1, "date": 1, "chat": {"id": 6, "type": "private"}, "text": "连衣裙"}
    update.write_text(json.dumps(message | {"from": {"id": 6, "is_bot": False, "first_name": "B"}}))
    result = CliRunner().invoke(app, ["replay", "telegram", str(update)])
    assert result.exit_code == 0, result.output
    calls = [json.loads(line) for line in result.output.strip().splitlines()]  # JSON lines only
    texts = "\n".join(str(call["params"].get("text", "")) for call in calls)
    # a numbered product with its price: the demo catalogue's dresses, not "nothing found"
    assert re.search(r"^1\. .+¥\d+\.\d\d", texts, re.MULTILINE), texts
