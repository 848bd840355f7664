"""Real server processes for fault-injection tests: a private Redis, a private PostgreSQL cluster and
``shopbot serve`` subprocesses that can be killed (``SIGKILL``) and started again.

Why a module of its own: the reliability tests (``tests/reliability/``) kill and restart these
processes, so they must never be the shared servers on 5432/6379 that every other test uses; and the
scale work reuses the same helpers for several ``shopbot serve`` processes and a Redis Cluster.

Everything listens on 127.0.0.1 on a free port and lives in a temporary directory the caller owns:

- :class:`RedisServer`: ``redis-server`` with AOF and ``appendfsync always`` (a restart keeps every
  acknowledged write, as production Redis with persistence does);
- :class:`PostgresCluster`: Debian's ``initdb``/``pg_ctl`` run as the ``postgres`` OS user (PostgreSQL
  refuses to run as root), trust authentication on loopback, ``fsync`` off (a throw-away cluster);
- :class:`ShopbotServer`: ``python -m bot.cli serve`` with the environment given, waiting for
  ``/healthz``; :meth:`ShopbotServer.kill` is ``kill -9``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path

#: ``shopbot serve`` run by this interpreter (the console script may belong to another checkout)
SERVE = "import sys; from bot.cli import main; sys.argv = ['shopbot', 'serve']; main()"
#: generous: the machine is small and shared (never a timing assertion, only a wait)
START_TIMEOUT = 240.0


class ProcessFailed(RuntimeError):
    """A server did not come up; the message carries the end of its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout: float, what: str, log: Path | None = None) -> None:
    """Poll ``check`` until it is true; :class:`ProcessFailed` (with the log's tail) after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except ProcessFailed:
            raise
        except Exception:  # noqa: BLE001 - not up yet (refused, reset, half-started)
            pass
        time.sleep(0.1)
    raise ProcessFailed(f"{what} not ready after {timeout:.0f} s{tail(log)}")


def tail(log: Path | None, lines: int = 40) -> str:
    if log is None or not log.exists():
        return ""
    return "\n--- " + str(log) + " ---\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def stop_process(
    process: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM, timeout: float = 20
) -> None:
    """Signal a child we started and reap it (SIGKILL if it does not end within ``timeout``)."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout)


class RedisServer:
    """A private ``redis-server`` (AOF, fsync on every write) in ``directory`` on a free port.

    :meth:`restart` stops it (SIGTERM, or SIGKILL with ``hard=True``) and starts it again on the same
    port and data, so clients see the same URL come back.
    """

    def __init__(self, directory: Path, port: int | None = None, executable: str = "redis-server") -> None:
        self.directory = directory
        self.port = port or free_port()
        self.executable = executable
        self.log = directory / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        args = [
            self.executable,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.directory),
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--save", "",
            "--logfile", str(self.log),
        ]  # fmt: skip
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_until(self.ping, START_TIMEOUT, f"redis on {self.port}", self.log)
        return self

    def ping(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")

    def stop(self, *, hard: bool = False) -> None:
        stop_process(self.process, signal.SIGKILL if hard else signal.SIGTERM)
        self.process = None

    def restart(self, *, hard: bool = False, down_for: float = 0.0) -> None:
        """Stop, stay down ``down_for`` seconds (clients meet refused connections), start again."""
        self.stop(hard=hard)
        time.sleep(down_for)
        self.start()


def postgres_bin() -> Path:
    """Debian's PostgreSQL binaries (the newest installed major version)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[4]))
    if not found:
        raise ProcessFailed("no /usr/lib/postgresql/*/bin/pg_ctl: install the postgresql package")
    return Path(found[-1]).parent


def as_user(user: str, args: list[str]) -> list[str]:
    """``args`` run as ``user`` (we are root in CI containers; PostgreSQL refuses to run as root)."""
    if os.geteuid() != 0:
        return args
    runuser = shutil.which("runuser")
    return [runuser, "-u", user, "--", *args] if runuser else ["su", user, "-c", " ".join(args)]


class PostgresCluster:
    """A throw-away PostgreSQL cluster: ``initdb`` into ``directory`` (owned by ``postgres``), trust auth
    on 127.0.0.1 and a free port, ``fsync=off``. :meth:`restart` is ``pg_ctl restart -m fast`` (or
    ``immediate``): every client connection is cut, as in a real server restart."""

    def __init__(self, directory: Path, port: int | None = None, user: str = "postgres") -> None:
        self.directory = directory
        self.data = directory / "data"
        self.port = port or free_port()
        self.user = user
        self.log = directory / "postgres.log"
        self.bin = postgres_bin()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://{self.user}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        done = subprocess.run(as_user(self.user, list(args)), capture_output=True, check=False, timeout=120)
        if check and done.returncode:
            output = (done.stdout + done.stderr).decode(errors="replace")[-2000:]
            raise ProcessFailed(f"{args[0]} exited with {done.returncode}: {output}{tail(self.log)}")
        return done

    def init(self) -> PostgresCluster:
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            owner = pwd.getpwnam(self.user)
            for path in (self.directory, *self.directory.parents):
                # the postgres user must reach its data dir: temp dirs are 0700 by default
                if path == Path("/"):
                    break
                if path.stat().st_uid == 0 and not path.stat().st_mode & 0o001:
                    path.chmod(path.stat().st_mode | 0o001)
            os.chown(self.directory, owner.pw_uid, owner.pw_gid)
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", self.user, "-A", "trust",
            "--no-sync", "-E", "UTF8", "--locale=C",
        )  # fmt: skip
        return self

    def start(self) -> PostgresCluster:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.directory} -c fsync=off -c full_page_writes=off"
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"
        )
        wait_until(lambda: port_open(self.port), START_TIMEOUT, f"postgres on {self.port}", self.log)
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def restart(self, mode: str = "fast", down_for: float = 0.0) -> None:
        """Stop (``fast``: clean, ``immediate``: as a crash), stay down ``down_for`` s, start again."""
        self.stop(mode)
        time.sleep(down_for)
        self.start()

    def create_database(self, name: str) -> str:
        self._run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, name)
        return self.url(name)


class ShopbotServer:
    """``shopbot serve`` in a subprocess: the real HTTP app, its channels' workers and jobs.

    ``env`` is added to this process's environment (``SHOPBOT_*`` settings); the server listens on
    ``port`` (kept across :meth:`restart`, so clients keep their URL). Its output goes to ``log``.

    What a start costs: imports (seconds when idle, 40 s and more on a loaded 2-core machine), the
    migrations, the language model, and warming it up before ``/healthz`` answers. A data dir without
    a cached model matching the checkout's NLU data and code makes the server TRAIN one first (another
    half minute or more): put a prepared ``intent-*.npz`` into ``<SHOPBOT_DATA_DIR>/nlu`` (see
    ``nlu.training.load_or_train``). That, a shared model cache other checkouts overwrite, and a 90 s
    limit are why an earlier draft of these tests never saw ``/healthz``.
    """

    def __init__(self, directory: Path, env: Mapping[str, str], port: int | None = None) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.env = dict(env)
        self.log = directory / f"serve-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = START_TIMEOUT) -> ShopbotServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            **self.env,
            "SHOPBOT_HTTP_HOST": "127.0.0.1",
            "SHOPBOT_HTTP_PORT": str(self.port),
        }
        self.starts += 1
        with self.log.open("ab") as out:
            out.write(f"\n===== start {self.starts} =====\n".encode())
            out.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-c", SERVE],
                env=env,
                cwd=str(Path(__file__).resolve().parents[1]),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_until(self.ready, timeout, f"shopbot serve on {self.port}", self.log)
        return self

    def ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise ProcessFailed(f"shopbot serve exited with {self.process.returncode}{tail(self.log)}")
        try:
            with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=2) as response:
                return bool(response.status == 200)
        except urllib.error.URLError:
            return False

    def kill(self) -> None:
        """``kill -9``: no clean-up runs, leases and unacknowledged work are left behind."""
        stop_process(self.process, signal.SIGKILL)
        self.process = None

    def stop(self) -> None:
        stop_process(self.process, signal.SIGTERM)
        self.process = None

    def restart(self, *, hard: bool = True) -> None:
        self.kill() if hard else self.stop()
        self.start()
