"""A private 3-node Redis Cluster on loopback for the scale tests (issue 16).

Three ``redis-server --cluster-enabled yes`` processes on free ports in a directory the caller owns,
joined with ``redis-cli --cluster create`` (no replicas: the tests check hash tags and the cluster
client, not failover), ready once every node reports ``cluster_state:ok``. No persistence: a
throw-away cluster. :meth:`RedisClusterServers.stop` kills every node it started.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.processes import START_TIMEOUT, free_port, stop_process, wait_until

NODES = 3


class RedisClusterServers:
    """Three cluster-enabled ``redis-server`` processes joined into one cluster (16384 slots split)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.ports = [free_port() for _ in range(NODES)]
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
            wait_until(lambda port=port: self._cli(port, "ping") == "PONG", START_TIMEOUT, f"redis {port}")
        subprocess.run(
            ["redis-cli", "--cluster", "create", *(f"127.0.0.1:{port}" for port in self.ports),
             "--cluster-replicas", "0", "--cluster-yes"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        for port in self.ports:
            wait_until(lambda port=port: self._ok(port), START_TIMEOUT, f"cluster state on {port}")
        return self

    def _cli(self, port: int, *command: str) -> str:
        done = subprocess.run(
            ["redis-cli", "-p", str(port), *command], capture_output=True, timeout=10, check=False
        )
        return done.stdout.decode().strip()

    def _ok(self, port: int) -> bool:
        return "cluster_state:ok" in self._cli(port, "cluster", "info")

    def keys_per_node(self) -> list[int]:
        """How many keys each node holds (to show the data really is spread over the cluster)."""
        return [int(self._cli(port, "dbsize") or 0) for port in self.ports]

    def stop(self) -> None:
        for process in self.processes:
            stop_process(process)
        self.processes = []
