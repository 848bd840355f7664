"""R7.1-2: the alert rules (turn p99, error rate, outbox lag, inbox depth, payment failures, overdue
cases) are valid Prometheus rules (``promtool check rules``), fire on the series their unit tests feed
(``promtool test rules``) and read only series the app exports.

promtool comes from Debian's ``prometheus`` package, installed by ``scripts/ensure-prometheus.sh``
(``make test``); without it the test skips locally and FAILS in CI."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from tests.conftest import services_required
from tests.operations.deploy_support import DEPLOY, problems_in

RULES = DEPLOY / "prometheus" / "shopbot.rules.yml"
REQUIRED_ALERTS = {
    "ShopbotTurnLatencyHigh": "shopbot_turn_seconds_bucket",
    "ShopbotTurnErrorRateHigh": "shopbot_turn_errors_total",
    "ShopbotOutboxLagging": "shopbot_outbox_lag_seconds",
    "ShopbotTelegramInboxDeep": "shopbot_telegram_inbox_depth",
    "ShopbotPaymentCallbacksFailing": "shopbot_payment_callbacks_total",
    "ShopbotAfterSalesOverdue": "shopbot_after_sales_overdue_cases",
}


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        message = "promtool is not installed (sh scripts/ensure-prometheus.sh, as root)"
        if services_required():
            pytest.fail(message + " and CI needs it")
        pytest.skip(message)
    return found


def test_promtool_checks_the_rules_and_their_unit_tests_pass() -> None:
    tool = promtool()
    checked = subprocess.run([tool, "check", "rules", str(RULES)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout
    tested = subprocess.run(
        [tool, "test", "rules", str(DEPLOY / "prometheus" / "shopbot.rules.test.yml")],
        capture_output=True,
        text=True,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_the_named_alerts_exist_and_read_only_exported_series() -> None:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    rules = {rule["alert"]: rule for group in groups for rule in group["rules"]}
    for alert, series in REQUIRED_ALERTS.items():
        assert series in rules[alert]["expr"], alert
    for alert, rule in rules.items():
        assert problems_in(rule["expr"]) == [], alert
        assert rule["annotations"]["runbook"].startswith("docs/operations.md#")


def test_a_rule_naming_a_series_the_app_lacks_is_caught() -> None:
    assert problems_in("rate(shopbot_turns_totl[5m])") == ["unknown series shopbot_turns_totl"]
    assert problems_in("sum by (merchant) (rate(shopbot_turns_total[5m]))") == ["unknown label merchant"]
    assert problems_in("up == 0") == ["names no shopbot series: up == 0"]


def test_every_runbook_link_of_an_alert_lands_on_a_section_of_the_runbook() -> None:
    """R7.3-1: an alert tells the person on call where to read what to do."""
    runbook = (DEPLOY.parent / "docs" / "operations.md").read_text()
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in runbook.splitlines()
        if line.startswith("#")
    }
    groups = yaml.safe_load(RULES.read_text())["groups"]
    for rule in (rule for group in groups for rule in group["rules"]):
        assert rule["annotations"]["runbook"].split("#")[1] in anchors, rule["alert"]
    sections = {"incident-steps-r73-1-r34-4", "data-breach-plan-r34-4-r63-3"}
    assert sections | {"backups-and-restore-r71-1-r33-3"} <= anchors
