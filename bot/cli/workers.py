"""``shopbot serve --workers N``: N server processes on one port, supervised by this one.

Why processes sharing the port (``SO_REUSEPORT``) and not a front process handing out requests: the
kernel spreads new connections over the listening sockets, nothing sits between the client and the
worker, and every worker is an ordinary ``shopbot serve`` (HTTP app, channel consumers, jobs). They
share nothing in memory: conversation state, locks, de-duplication marks, inboxes and outbox claims
live in Redis and PostgreSQL, so any worker can take any message (see ``docs/scaling.md``).

Each worker has its own slot, ``<host>:<port>:w<i>``: the owner of its turn marks and locks (a worker
that died is restarted in the same slot and takes over what it left at once, see
:class:`bot.turns.Owner`) and its name in the Telegram inbox's consumer group. So that no two
supervisors ever run the same slots, the supervisor holds a lock named after the port (an abstract
Unix socket, released by the kernel when the supervisor dies) for as long as it runs.

SIGTERM or SIGINT to the supervisor: every worker gets SIGTERM and stops gracefully (finishes its
turns, stops its consumers and jobs, closes the listener); one still running after ``grace`` seconds
is killed. A worker that exits on its own is started again in its slot after a short pause. A
supervisor killed outright (SIGKILL, OOM) takes its workers with it: each asked the kernel for SIGTERM
when its parent dies (Linux ``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import socket
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from types import FrameType

import typer

log = logging.getLogger("shopbot.serve")
#: a worker that ends on its own is started again after this pause (a crash loop stays slow)
RESTART_PAUSE = 1.0


#: prctl(2) option: the signal this process gets when its parent dies (Linux)
PR_SET_PDEATHSIG = 1


def _stop_with_parent() -> None:
    """Ask the kernel for SIGTERM (a graceful stop) when the supervisor dies, even by SIGKILL: workers
    left without it would keep the port and their slots with nobody to stop or restart them."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class ServeWorkers:
    """Start ``count`` processes running ``serve_slot(i)``, keep them running, stop them together."""

    def __init__(
        self,
        count: int,
        serve_slot: Callable[[int], None],
        *,
        port: int,
        prepare: Callable[[], None] | None = None,
        grace: float = 30.0,
    ) -> None:
        self.count = count
        self.serve_slot = serve_slot
        self.port = port
        self.prepare = prepare
        self.grace = grace
        self.stopping = False
        self.workers: dict[int, BaseProcess] = {}
        # fork: the workers start from this process's imports (copy-on-write), not from scratch
        self._context = multiprocessing.get_context("fork")

    def run(self) -> None:
        guard = self._hold_port_lock()
        try:
            if self.prepare is not None:
                self.prepare()  # once, before any worker: the database migrations
            previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
            try:
                for slot in range(self.count):
                    self._start(slot)
                self._supervise()
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
                self._stop_all()
        finally:
            guard.close()

    def _hold_port_lock(self) -> socket.socket:
        guard = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            guard.bind(f"\0shopbot-serve-workers-{self.port}")
        except OSError as error:
            guard.close()
            typer.echo(f"another `shopbot serve --workers` runs on port {self.port} ({error})", err=True)
            raise typer.Exit(2) from error
        return guard

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def _start(self, slot: int) -> None:
        process = self._context.Process(
            target=self._child, args=(slot, os.getpid()), name=f"shopbot-serve-w{slot}"
        )
        process.start()
        self.workers[slot] = process
        log.info("worker %d started (pid %s) on port %d", slot, process.pid, self.port)

    def _child(self, slot: int, supervisor: int) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):  # the server installs its own handlers
            signal.signal(sig, signal.SIG_DFL)
        _stop_with_parent()
        if os.getppid() != supervisor:  # it died before we asked to be told: nobody would stop us
            return
        self.serve_slot(slot)

    def _supervise(self) -> None:
        while not self.stopping:
            for slot, process in list(self.workers.items()):
                process.join(timeout=0.2)
                if self.stopping:
                    return
                if process.exitcode is not None:
                    log.error("worker %d exited with %s; starting it again", slot, process.exitcode)
                    time.sleep(RESTART_PAUSE)
                    if not self.stopping:
                        self._start(slot)

    def _stop_all(self) -> None:
        for process in self.workers.values():
            if process.exitcode is None and process.pid is not None:
                process.terminate()  # SIGTERM: the graceful stop
        deadline = time.monotonic() + self.grace
        for slot, process in self.workers.items():
            process.join(timeout=max(0.0, deadline - time.monotonic()))
            if process.exitcode is None:
                log.error("worker %d did not stop within %.0f s: killed", slot, self.grace)
                process.kill()
                process.join(5)
        log.info("all %d workers stopped", len(self.workers))
