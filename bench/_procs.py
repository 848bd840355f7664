"""Processes a benchmark runs beside itself: a fake Telegram Bot API and ``shopbot serve``.

Why separate processes: the channel benchmark measures *our* code. A fake Bot API answering in the
benchmark's own event loop would bill its work to the Telegram path; in its own process it costs what
the real Telegram costs us, a round trip on a socket. ``shopbot serve`` subprocesses are the way to
compare one serving process with two (the same start-up as ``tests/processes.py``, kept apart from the
tests so a benchmark imports nothing from ``tests/``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVE = "import sys; from bot.cli import main; sys.argv = ['shopbot', 'serve']; main()"

#: a Bot API that accepts every call: sends and edits answer with a message in the caller's chat; it
#: reads JSON bodies (what the channel sends) and forms (multipart uploads), as Telegram does
FAKE_BOT_API = r"""
import itertools, json, sys
from aiohttp import web
ids = itertools.count(1000)

async def call(request):
    method = request.match_info["method"]
    if method.startswith(("send", "edit")):
        if request.content_type == "application/json":
            form = json.loads(await request.read())
        else:
            form = await request.post()
        chat = int(form.get("chat_id") or 1)
        result = {"message_id": next(ids), "date": 1700000000,
                  "chat": {"id": chat, "type": "private" if chat > 0 else "group"}}
    else:
        await request.read()
        result = True
    return web.json_response({"ok": True, "result": result})

app = web.Application()
app.router.add_post("/bot{token}/{method}", call)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} not ready after {timeout:.0f} s")


def _port_open(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return True


class Child:
    """A subprocess on a loopback port; :meth:`stop` sends SIGTERM (then SIGKILL)."""

    def __init__(self, args: list[str], port: int, log: Path, env: Mapping[str, str] | None = None) -> None:
        self.port = port
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                args, env={**os.environ, **(env or {})}, cwd=str(ROOT), stdout=out, stderr=subprocess.STDOUT
            )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> None:
        if self.process.poll() is not None:
            tail = self.log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{self.process.args!r} exited with {self.process.returncode}:\n{tail}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def fake_bot_api(directory: Path) -> Child:
    port = free_port()
    child = Child([sys.executable, "-c", FAKE_BOT_API, str(port)], port, directory / "botapi.log")

    def ready() -> bool:
        child.alive()
        return _port_open(port)

    _wait(ready, 60, "fake Bot API")
    return child


def shopbot_serve(directory: Path, env: Mapping[str, str]) -> Child:
    """``shopbot serve`` with ``env`` added to ours; call :func:`wait_ready` before sending to it."""
    port = free_port()
    full = {**env, "SHOPBOT_HTTP_HOST": "127.0.0.1", "SHOPBOT_HTTP_PORT": str(port)}
    return Child([sys.executable, "-c", SERVE], port, directory / f"serve-{port}.log", full)


def wait_ready(child: Child, timeout: float = 300.0) -> None:
    def ready() -> bool:
        child.alive()
        try:
            with urllib.request.urlopen(f"{child.base_url}/healthz", timeout=2) as response:
                return bool(response.status == 200)
        except urllib.error.URLError:
            return False

    _wait(ready, timeout, f"shopbot serve on {child.port}")
