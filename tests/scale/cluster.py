"""A private 3-node Redis Cluster on loopback for the scale tests (issue 16).

Three ``redis-server --cluster-enabled yes`` processes on free ports in a directory the caller owns,
joined with ``redis-cli --cluster create`` (no replicas: the tests check hash tags and the cluster
client, not failover), ready once every node reports ``cluster_state:ok``. No persistence: a
throw-away cluster. :meth:`RedisClusterServers.stop` kills every node it started.
"""

from __future__ import annotations

import functools
import random
import socket
import subprocess
from pathlib import Path

from tests.processes import START_TIMEOUT, stop_process, wait_until

NODES = 3
BUS_OFFSET = 10000


def cluster_ports(count: int) -> list[int]:
    """Free ports whose cluster bus ports (port + 10000, Redis's rule) are free and valid too: the
    kernel's free ports (up to 60999) would put the bus past 65535, and that node exits at start."""
    found: list[int] = []
    candidates = list(range(20000, 30000))
    random.shuffle(candidates)
    for port in candidates:
        if all(_free(p) for p in (port, port + BUS_OFFSET)):
            found.append(port)
            if len(found) == count:
                return found
    raise RuntimeError("no free ports for a Redis Cluster")


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class RedisClusterServers:
    """Three cluster-enabled ``redis-server`` processes joined into one cluster (16384 slots split)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.ports = cluster_ports(NODES)
        self.processes: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        """The app's cluster URL: every node as a startup node."""
        return "redis+cluster://" + ",".join(f"127.0.0.1:{port}" for port in self.ports)

    def start(self) -> RedisClusterServers:
        self.directory.mkdir(parents=True, exist_ok=True)
        for port in self.ports:
            args = [
                "redis-server",
                "--port", str(port),
                "--bind", "127.0.0.1",
                "--dir", str(self.directory),
                "--cluster-enabled", "yes",
                "--cluster-config-file", str(self.directory / f"nodes-{port}.conf"),
                "--save", "",
                "--appendonly", "no",
                "--daemonize", "no",
                "--logfile", str(self.directory / f"redis-{port}.log"),
            ]  # fmt: skip
            self.processes.append(subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
        for port in self.ports:
            wait_until(functools.partial(self._answers, port), START_TIMEOUT, f"redis {port}")
        subprocess.run(
            ["redis-cli", "--cluster", "create", *(f"127.0.0.1:{port}" for port in self.ports),
             "--cluster-replicas", "0", "--cluster-yes"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        for port in self.ports:
            wait_until(functools.partial(self._ok, port), START_TIMEOUT, f"cluster state on {port}")
        return self

    def _cli(self, port: int, *command: str) -> str:
        done = subprocess.run(
            ["redis-cli", "-p", str(port), *command], capture_output=True, timeout=10, check=False
        )
        return done.stdout.decode().strip()

    def _answers(self, port: int) -> bool:
        return self._cli(port, "ping") == "PONG"

    def _ok(self, port: int) -> bool:
        return "cluster_state:ok" in self._cli(port, "cluster", "info")

    def keys_per_node(self) -> list[int]:
        """How many keys each node holds (to show the data really is spread over the cluster)."""
        return [int(self._cli(port, "dbsize") or 0) for port in self.ports]

    def stop(self) -> None:
        for process in self.processes:
            stop_process(process)
        self.processes = []
