"""``shopbot rasa-actions`` as a real process on a free port: it starts, listens and answers
``/health``, ``/actions`` and ``/webhook`` (it used to fail at start with a pickling error and hang)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.bot.test_rasa_actions import call

SHOPBOT = str(Path(sys.executable).with_name("shopbot"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_action_server_starts_and_answers(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPBOT_")}
    env |= {"SHOPBOT_DATA_DIR": str(tmp_path), "SHOPBOT_REDIS_URL": "memory://"}
    subprocess.run([SHOPBOT, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    port = _free_port()
    command = [SHOPBOT, "rasa-actions", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.communicate()[1].decode()[-2000:]
            try:
                health = httpx.get(f"{base}/health", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the action server never listened"
                time.sleep(0.3)
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        names = {a["name"] for a in httpx.get(f"{base}/actions", timeout=5).json()}
        assert {"action_search_products", "action_order_status"} <= names
        found = httpx.post(f"{base}/webhook", json=call("action_search_products", "red dress"), timeout=10)
        assert found.status_code == 200 and found.json()["responses"], found.text
        unknown = httpx.post(f"{base}/webhook", json=call("action_nope"), timeout=10)
        assert unknown.status_code == 404 and unknown.json()["action_name"] == "action_nope"
        garbage = httpx.post(f"{base}/webhook", content=b"[" * 5000, timeout=10)
        assert garbage.status_code == 400
    finally:
        server.terminate()
        server.wait(timeout=20)
