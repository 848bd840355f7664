"""R7.1-2: docker-compose runs Prometheus and Grafana beside the app (no Docker here: the files are
parsed), Grafana is provisioned with the dashboard, and every dashboard query names series the app's
own registry exports."""

from __future__ import annotations

import json
from typing import Any

import yaml

from tests.operations.deploy_support import DEPLOY, ROOT, problems_in


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def mounted(service: dict[str, Any]) -> dict[str, str]:
    """container path -> repository path of the service's bind mounts from ``./``."""
    pairs = (v.split(":") for v in service.get("volumes", []) if v.startswith("./"))
    return {target: source for source, target, *_ in pairs}


def test_compose_has_prometheus_scraping_the_app_and_grafana_provisioned() -> None:
    services = compose()["services"]
    app, prometheus, grafana = services["app"], services["prometheus"], services["grafana"]
    port = app["environment"]["SHOPBOT_METRICS_PORT"]
    assert app["environment"]["SHOPBOT_ENV"] == "production"  # the shared settings still apply
    assert port in app["expose"] and all(port not in p for p in app.get("ports", []))  # never published
    files = mounted(prometheus)
    config = yaml.safe_load((ROOT / files["/etc/prometheus/prometheus.yml"]).read_text())
    [job] = config["scrape_configs"]
    # every app replica (`--scale app=N`) is found by the compose DNS name, on the metrics port
    [discovery] = job["dns_sd_configs"]
    assert discovery["names"] == ["app"] and discovery["type"] == "A" and str(discovery["port"]) == port
    assert config["rule_files"] == ["/etc/prometheus/shopbot.rules.yml"]
    assert (ROOT / files["/etc/prometheus/shopbot.rules.yml"]).exists()
    provisioning = ROOT / mounted(grafana)["/etc/grafana/provisioning"]
    [source] = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())["datasources"]
    assert source["url"] == "http://prometheus:9090" and source["type"] == "prometheus"
    [provider] = yaml.safe_load((provisioning / "dashboards" / "shopbot.yml").read_text())["providers"]
    dashboards = ROOT / mounted(grafana)[provider["options"]["path"]]
    assert (dashboards / "shopbot.json").exists()
    assert all(p.startswith("127.0.0.1:") for s in (prometheus, grafana) for p in s["ports"])


def test_every_dashboard_query_names_series_the_app_exports() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "shopbot.json").read_text())
    expressions = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    assert len(expressions) >= 10
    for expression in expressions:
        assert problems_in(expression) == [], expression
    shown = " ".join(expressions)
    for series in (
        "shopbot_turn_seconds_bucket",
        "shopbot_turns_total",
        "shopbot_turn_errors_total",
        "shopbot_nlu_intents_total",
        "shopbot_nlu_fallbacks_total",
        "shopbot_webhook_rejects_total",
        "shopbot_telegram_inbox_depth",
        "shopbot_outbox_lag_seconds",
        "shopbot_notification_backlog",
        "shopbot_payment_callbacks_total",
        "shopbot_db_pool_in_use",
    ):
        assert series in shown, series
