"""The command line as a new user meets it: the demo, the console chat (script, JSON), orders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SHOPBOT = str(Path(sys.executable).with_name("shopbot"))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli")


def run(data_dir: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SHOPBOT_DATA_DIR": str(data_dir),
        "SHOPBOT_DATABASE_URL": "",
        "SHOPBOT_REDIS_URL": "memory://",
    }
    env.pop("SHOPBOT_DATABASE_URL")
    return subprocess.run(
        [SHOPBOT, *args], input=stdin, capture_output=True, text=True, env=env, timeout=180, check=False
    )


def test_demo_once_seeds_the_catalogue_and_places_a_paid_order(data_dir: Path) -> None:
    result = run(data_dir, "demo", "--once")
    assert result.returncode == 0, result.stderr
    assert "Seeded the demo catalogue: " in result.stdout and " products" in result.stdout
    assert "status paid" in result.stdout and "138******78" in result.stdout
    listed = run(data_dir, "orders", "list", "--json")
    orders = json.loads(listed.stdout)
    assert orders[0]["status"] == "paid" and orders[0]["lines"][0]["quantity"] == 1
    assert "13812345678" not in listed.stdout  # the operator view masks personal data


def test_chat_script_prints_a_transcript_with_numbered_buttons(data_dir: Path, tmp_path: Path) -> None:
    script = tmp_path / "script.txt"
    script.write_text("# a shopper\n你好\n有没有红色连衣裙\n1\n", encoding="utf-8")
    result = run(data_dir, "chat", "--script", str(script), "--user", "script-user")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "> 你好" in out and "购物助手" in out
    assert "[1] 1. " in out  # results as numbered buttons
    assert "¥" in out.split("> 1", 1)[1]  # pressing 1 opened a product card


def test_chat_json_mode_holds_a_conversation_with_a_program(data_dir: Path) -> None:
    result = run(
        data_dir,
        "chat",
        "--json",
        "--user",
        "json-user",
        "--lang",
        "en",
        stdin="show me dresses\nview cart\n",
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    turns: list[list[dict[str, object]]] = [[]]
    for line in lines:
        if line.get("turn_end"):
            turns.append([])
        else:
            turns[-1].append(line)
    assert len(turns) == 3 and turns[-1] == []
    listing = next(r for r in turns[0] if r["type"] == "product_list")
    assert listing["buttons"] and all("payload" in b for b in listing["buttons"])
    assert any("empty" in str(r["text"]) for r in turns[1])
