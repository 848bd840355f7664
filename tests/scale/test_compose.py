"""``docker compose up --scale app=N --scale worker=M`` works on the shipped docker-compose.yml (issue 16,
R3.3-1): the scalable services have no fixed container name and publish no fixed host port (a second
replica would clash), one load balancer publishes the port, migrations run once before the replicas,
and the worker consumes the channels' queues. Checked on the file itself (no Docker on the test host).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
SCALED = ("app", "worker")


def services() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    found: dict[str, Any] = compose["services"]
    return found


def host_ports(service: dict[str, Any]) -> list[str]:
    """The host side of each published port ("8080:8080" -> "8080"; "8080" alone -> none)."""
    published: list[str] = []
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            if entry.get("published"):
                published.append(str(entry["published"]))
            continue
        parts = str(entry).split(":")
        if len(parts) > 1:
            published.append(":".join(parts[:-1]))
    return published


def test_app_and_worker_can_run_as_many_replicas() -> None:
    """R3.3-1: nothing in app or worker pins one replica (container_name, a host port, a fixed slot)."""
    found = services()
    for name in SCALED:
        service = found[name]
        assert "container_name" not in service, name
        assert host_ports(service) == [], f"{name} publishes a fixed host port: {service['ports']}"
        environment = service.get("environment", {})
        assert "SHOPBOT_INSTANCE" not in environment, f"{name}: one slot for all replicas"
        assert "SHOPBOT_TELEGRAM_CONSUMER" not in environment, f"{name}: one inbox consumer for all"
        assert service.get("deploy", {}).get("replicas", 1) >= 1


def test_one_load_balancer_publishes_the_port_and_reaches_every_app() -> None:
    found = services()
    published = {name: host_ports(service) for name, service in found.items() if host_ports(service)}
    assert any(ports == ["8080"] for ports in published.values()), published
    [balancer] = [name for name, ports in published.items() if ports == ["8080"]]
    mounts = " ".join(found[balancer].get("volumes", []))
    config = (ROOT / mounts.split(":")[0].removeprefix("./")).read_text()
    assert "http://app:8080" in config and "resolver" in config  # re-resolved as replicas come and go


def test_migrations_run_once_before_the_replicas_and_the_worker_takes_the_queues() -> None:
    found = services()
    for name in SCALED:
        command = " ".join(found[name]["command"])
        assert "db upgrade" not in command, f"every {name} replica would migrate at once"
        assert found[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert found["migrate"]["command"] == ["shopbot", "db", "upgrade"]
    assert found["worker"]["command"] == ["shopbot", "worker", "--channels"]
    assert "--workers" in " ".join(found["app"]["command"])
