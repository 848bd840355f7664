"""R5.4-1 (issue 14, a newcomer's first minutes): ``shopbot seed demo`` on a fresh data dir migrates
first instead of a raw traceback; help shows flags as flags (not ``--json <bool>``); the demo banner
names a chat command that exists from this shell."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.cli.commerce import chat_command

SHOPBOT = str(Path(sys.executable).with_name("shopbot"))


def run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SHOPBOT_DATA_DIR": str(data_dir), "SHOPBOT_REDIS_URL": "memory://"}
    env.pop("SHOPBOT_DATABASE_URL", None)
    return subprocess.run([SHOPBOT, *args], capture_output=True, text=True, env=env, timeout=300, check=False)


def test_seed_demo_on_a_fresh_data_dir_migrates_first(tmp_path: Path) -> None:
    result = run(tmp_path, "seed", "demo")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "db upgrade" in result.stdout and "202 products" in result.stdout


def test_help_shows_flags_without_a_bool_placeholder(tmp_path: Path) -> None:
    result = run(tmp_path, "orders", "list", "--help")
    assert result.returncode == 0, result.stderr
    assert "--json" in result.stdout and "<bool>" not in result.stdout
    assert "--limit" in result.stdout


def test_the_banner_names_a_chat_command_that_exists() -> None:
    command = chat_command()
    program = command.split(" ")[0]
    assert command.endswith(" chat")
    assert program == "shopbot" or Path(program).exists() or program == sys.executable
