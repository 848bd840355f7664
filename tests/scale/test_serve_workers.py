"""``shopbot serve --workers 2`` (issue 16, R3.3-1): two processes answer on one port (SO_REUSEPORT),
each in its own slot (turn-mark owner, Telegram consumer name), and SIGTERM to the supervisor stops
all of them gracefully. A second supervisor on the same port is refused (it would run the same slots).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tests.conftest import REDIS_URL
from tests.processes import START_TIMEOUT, free_port, stop_process, tail, wait_until
from tests.scale.harness import data_dir

ROOT = Path(__file__).resolve().parents[2]


def serve(port: int, directory: Path, *args: str) -> subprocess.Popen[bytes]:
    argv = ["shopbot", "serve", *args]
    code = f"import sys; from bot.cli import main; sys.argv = {argv!r}; main()"
    env = {
        **os.environ,
        "SHOPBOT_DATA_DIR": str(directory / "data"),
        "SHOPBOT_DATABASE_URL": f"sqlite+aiosqlite:///{directory / 'shop.db'}",
        "SHOPBOT_REDIS_URL": REDIS_URL,
        "SHOPBOT_HTTP_HOST": "127.0.0.1",
        "SHOPBOT_HTTP_PORT": str(port),
    }
    log = (directory / "serve.log").open("ab")
    command = [sys.executable, "-c", code]
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def readies(log: Path) -> int:
    """How many workers said they were ready (each start of a slot says it once)."""
    return log.read_text().count(", listening on http")


def healthy(port: int) -> bool:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
        return bool(response.status == 200)


def test_two_workers_share_one_port_and_stop_together() -> None:
    """R3.3-1: both workers come up in their own slots on one port, answer there, and all of them end
    on one SIGTERM to the supervisor; a second supervisor for the port is refused; a worker killed
    outright is started again in its slot."""
    directory = Path(tempfile.mkdtemp(prefix="shopbot-workers-"))
    data_dir(directory)
    log = directory / "serve.log"
    port = free_port()
    supervisor = serve(port, directory, "--workers", "2")
    try:
        wait_until(lambda: readies(log) >= 2, START_TIMEOUT, "two workers", log)
        wait_until(lambda: healthy(port), START_TIMEOUT, "healthz", log)  # "ready" comes before listening
        text = log.read_text()
        assert f":{port}:w0)" in text and f":{port}:w1)" in text, tail(log)
        workers = children(supervisor.pid)
        assert len(workers) == 2, f"workers {workers}{tail(log)}"
        assert all(healthy(port) for _ in range(10))

        second = serve(port, directory, "--workers", "2")
        assert second.wait(120) == 2  # refused: the port's slots are taken

        os.kill(workers[0], signal.SIGKILL)  # a worker dies: the supervisor starts its slot again
        wait_until(lambda: readies(log) >= 3, START_TIMEOUT, "a restarted worker", log)
        wait_until(lambda: len(children(supervisor.pid)) == 2, START_TIMEOUT, "two workers again", log)
        workers = children(supervisor.pid)
        text = log.read_text()  # the same slot again, not a new one
        assert text.count(f":{port}:w0)") + text.count(f":{port}:w1)") == 3 and f":{port}:w2)" not in text

        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(90) == 0, tail(log)
        assert not [pid for pid in workers if Path(f"/proc/{pid}").exists() and not zombie(pid)]
        assert "all 2 workers stopped" in log.read_text()
        time.sleep(0.2)
        assert not port_answers(port)
    finally:
        stop_process(supervisor)  # SIGTERM; killed outright, it would take its workers with it
        shutil.rmtree(directory, ignore_errors=True)


def zombie(pid: int) -> bool:
    try:
        return (Path(f"/proc/{pid}") / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def port_answers(port: int) -> bool:
    try:
        return healthy(port)
    except OSError:
        return False
