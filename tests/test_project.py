"""The project's shape: compose file, architecture contracts, the Quick start."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_docker_compose_names_the_services_with_health_checks() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"app", "worker", "postgres", "redis"} <= set(services)
    for name in ("app", "worker", "postgres", "redis"):
        assert "healthcheck" in services[name], name
    assert {"pg-data", "redis-data"} <= set(compose["volumes"])
    assert services["app"]["environment"]["SHOPBOT_ENV"] == "production"
    assert services["app"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_dependency_rule_holds() -> None:
    """bot -> dialogs -> {nlu, commerce_core}; only bot knows a platform (import-linter)."""
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(linter)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" in result.stdout and "0 broken" in result.stdout


def test_readme_quick_start_has_exactly_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = section.split("```", 2)[1]
    commands = [line for line in block.splitlines()[1:] if line.strip() and not line.startswith("#")]
    assert commands == ["make demo", "make test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_status_machine_diagrams_match_the_code() -> None:
    from commerce_core.diagrams import STATUS_MACHINES, status_document

    for name in STATUS_MACHINES:
        path = ROOT / "docs" / "status" / f"{name}.md"
        assert path.exists(), f"run `shopbot docs` to create {path}"
        assert path.read_text(encoding="utf-8") == status_document(name), (
            f"{path} is stale: run `shopbot docs`"
        )


def test_no_module_is_over_500_lines_and_mypy_is_strict_on_all_four_packages() -> None:
    """Issue 10 (R7.4-1: maintainable code): small modules, and strict types on every package."""
    too_long = {
        str(path.relative_to(ROOT)): count
        for package in ("bot", "dialogs", "nlu", "commerce_core")
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts and (count := len(path.read_text().splitlines())) > 500
    }
    assert too_long == {}
    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert mypy["strict"] is True
    assert set(mypy["packages"]) == {"bot", "dialogs", "nlu", "commerce_core"}
