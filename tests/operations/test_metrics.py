"""R7.1-2: Prometheus ``/metrics`` after a few real turns through the HTTP app exposes the named series
(turn latency per channel and flow, turns, errors, NLU intents and fallbacks, webhook rejects, payment
callbacks, inbox depth, outbox lag, notification backlog, DB pool in use), only to the bearer of the
token; and several processes' counts add up in PROMETHEUS_MULTIPROC_DIR mode."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from bot.http.app import create_app
from bot.observability.settings import MetricsSettings
from bot.runtime import Runtime
from commerce_core.api import FakeClock, pending_count
from tests.http.test_app import chat, place_order
from tests.operations.conftest import METRICS_TOKEN, Client

ROOT = Path(__file__).resolve().parents[2]


async def scrape(client: Client) -> dict[str, list[tuple[dict[str, str], float]]]:
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status == 200
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def total(samples: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    return sum(v for found, v in samples.get(name, []) if all(found.get(k) == x for k, x in labels.items()))


async def test_metrics_after_a_few_turns_expose_the_named_series(
    client: Client, runtime: Runtime, clock: FakeClock
) -> None:
    assert (await client.get("/metrics")).status == 401  # no token, no figures
    assert (await client.get("/metrics", headers={"Authorization": "Bearer guess-guess-guess"})).status == 401
    number, payment = await place_order(client, "metrics-shopper")  # 7 turns, through checkout
    await chat(client, "metrics-shopper", text="qwzx vlorp ghh", lang="en")  # nobody understands this
    rejected = await client.post("/payments/sandbox/notify", data=b"not a signed notification")
    assert rejected.status == 400
    assert number

    await runtime.container.commerce.payments.sandbox_pay(payment)  # paid, nobody relays the news
    clock.advance(seconds=300)  # whatever is still queued has now waited five minutes
    samples = await scrape(client)
    assert total(samples, "shopbot_turns_total", channel="web") == 8
    assert total(samples, "shopbot_turn_seconds_count", channel="web") == 8
    flows = {labels["flow"] for labels, _ in samples["shopbot_turn_seconds_count"]}
    assert "checkout" in flows  # the address and confirmation turns ran in the checkout flow
    assert total(samples, "shopbot_turn_seconds_bucket", channel="web", le="+Inf") == 8
    assert total(samples, "shopbot_nlu_intents_total") == 8
    assert total(samples, "shopbot_nlu_fallbacks_total", channel="web") >= 1
    assert total(samples, "shopbot_turn_errors_total") == 0
    assert total(samples, "shopbot_payment_callbacks_total", outcome="rejected") == 1
    notify = "/payments/sandbox/notify"
    assert total(samples, "shopbot_webhook_rejects_total", route=notify, status="400") == 1
    backlog = await pending_count(runtime.container.commerce.sessions)
    assert total(samples, "shopbot_notification_backlog") == backlog
    assert backlog > 0  # the payment's notifications wait for the relay, which no worker runs here
    assert total(samples, "shopbot_outbox_lag_seconds") >= 300
    for gauge in ("shopbot_telegram_inbox_depth", "shopbot_db_pool_in_use"):
        assert gauge in samples
    assert total(samples, "shopbot_db_pool_in_use") == 0  # every connection went back to the pool


async def test_every_response_carries_a_request_id_and_keeps_a_sane_given_one(client: Client) -> None:
    fresh = await client.get("/healthz")
    assert len(fresh.headers["X-Request-ID"]) == 16
    given = await client.get("/healthz", headers={"X-Request-ID": "trace-abc-12345"})
    assert given.headers["X-Request-ID"] == "trace-abc-12345"
    hostile = await client.get("/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert hostile.headers["X-Request-ID"] != "<script>alert(1)</script>"


COUNT_TURNS = textwrap.dedent(
    """
    from bot.observability.metrics import Metrics, TurnMetrics
    from dialogs.messages import InboundMessage
    observer = TurnMetrics(Metrics())
    for n in range({turns}):
        observer.begin(InboundMessage("telegram", "u", "u", "hi", None, dedup_key=str(n))).done()
    """
)


def test_several_processes_add_up_in_multiprocess_mode(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    for turns in (3, 4):  # two worker processes, each counting its own turns
        subprocess.run([sys.executable, "-c", COUNT_TURNS.format(turns=turns)], env=env, check=True)
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "from bot.observability.metrics import Metrics, exposition; "
            "import sys; sys.stdout.write(exposition(Metrics()).decode())",
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    counts = {
        s.name: s.value
        for f in text_string_to_metric_families(shown)
        for s in f.samples
        if s.labels.get("channel") == "telegram"
    }
    assert counts["shopbot_turns_total"] == 7
    assert counts["shopbot_turn_seconds_count"] == 7


async def test_a_separate_metrics_port_serves_without_token_and_the_main_port_not_at_all(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:  # a free loopback port for the metrics listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = runtime.container.settings
    private = settings.model_copy(update={"metrics": MetricsSettings(port=port, token=None)})
    monkeypatch.setattr(runtime.container, "settings", private)
    async with TestClient(TestServer(create_app(runtime), host="127.0.0.1")) as main:
        assert (await main.get("/metrics")).status == 404  # no token configured: not on the main port
        async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/metrics") as got:
            assert got.status == 200
            assert "# TYPE shopbot_turns_total counter" in await got.text()
    with pytest.raises(aiohttp.ClientConnectionError):  # closed with the app
        async with aiohttp.ClientSession() as session:
            await session.get(f"http://127.0.0.1:{port}/metrics")
