"""No double alerts across processes (R3.4-2): two cores on one database (two processes, each with its
own connection pool) evaluate the same failed-payment burst at the same moment, again and again; one
alert is stored and one ``AlertRaised`` event queued for staff. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import text

from commerce_core.api import AlertRule, AlertThresholds, Commerce, CommerceConfig, create_engine
from commerce_core.clock import FakeClock
from commerce_core.orders.types import LineRequest
from tests.commerce.factory import ADDRESS, build_shop
from tests.conftest import TEST_KEYS, fresh_postgres
from tests.runtime_support import sqlite_copy


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return sqlite_copy(request, tmp_path) if request.param == "sqlite" else fresh_postgres(request)


@pytest_asyncio.fixture
async def two_cores(db_url: str, clock: FakeClock) -> AsyncIterator[tuple[Commerce, Commerce]]:
    config = CommerceConfig(
        encryption_keys=TEST_KEYS,
        blind_index_key="test-index-key",
        sandbox_payment_secret="test-sandbox-secret-123",
    )
    cores = [Commerce.build(create_engine(db_url), config, clock=clock) for _ in range(2)]
    for core in cores:
        core.alerts.thresholds = AlertThresholds(payment_failures_per_shopper=2, payment_failures_platform=99)
    try:
        yield cores[0], cores[1]
    finally:
        for core in cores:
            await core.close()


async def test_two_processes_evaluating_one_burst_raise_one_alert(
    two_cores: tuple[Commerce, Commerce],
) -> None:
    """R3.4-2: whatever the interleaving, one alert; an evaluation that lost a race to a lock is
    retried (as the outbox relay retries a failed subscriber) and then finds the alert there."""
    first, second = two_cores
    await build_shop(first)
    shopper = await first.customers.identify("telegram", "7001")
    order = await first.orders.place(shopper.id, ADDRESS, "k", items=[LineRequest("D3-BLU-M", 1)])
    payment = await first.payments.start(order.number)
    for _ in range(3):
        await first.payments.sandbox_pay(payment.payment_id, succeed=False)
    for _ in range(5):
        outcomes = await asyncio.gather(
            *(
                core.alerts.payment_failed(order.number, shopper.id)
                for core in (first, second, first, second)
            ),
            return_exceptions=True,
        )
        for core, outcome in zip((first, second, first, second), outcomes, strict=True):
            if isinstance(outcome, BaseException):  # SQLite's writer lock: the relay would retry
                await core.alerts.payment_failed(order.number, shopper.id)
    (alert,) = await second.alerts.find()
    assert alert.rule is AlertRule.PAYMENT_FAILURES_SHOPPER
    async with first.engine.connect() as conn:
        queued = await conn.scalar(text("SELECT count(*) FROM outbox WHERE event_type = 'AlertRaised'"))
    assert queued == 1
