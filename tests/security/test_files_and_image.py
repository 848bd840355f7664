"""Finding 11: the data files shopbot creates are readable by their owner only, and the container
image runs as a non-root user."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHOPBOT = str(Path(sys.executable).with_name("shopbot"))


def test_data_files_are_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPBOT_")}
    env |= {"SHOPBOT_DATA_DIR": str(data_dir), "SHOPBOT_REDIS_URL": "memory://"}
    old_umask = os.umask(0o022)  # a usual umask: shopbot must not depend on the caller's
    try:
        result = subprocess.run(
            [SHOPBOT, "db", "upgrade"], env=env, capture_output=True, text=True, timeout=120, check=False
        )
    finally:
        os.umask(old_umask)
    assert result.returncode == 0, result.stderr
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"shopbot.db", "secrets.json"}
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700


def test_the_image_runs_as_a_non_root_user() -> None:
    lines = [line.split(None, 1) for line in (ROOT / "Dockerfile").read_text().splitlines() if line.strip()]
    users = [rest.strip() for word, *rest_list in lines for rest in rest_list if word == "USER"]
    assert users, "the Dockerfile never leaves root"
    assert users[-1].split(":")[0] not in ("root", "0")
    run_index = max(i for i, (word, *_) in enumerate(lines) if word == "RUN")
    user_index = max(i for i, (word, *_) in enumerate(lines) if word == "USER")
    assert user_index > run_index  # nothing after installation runs as root
