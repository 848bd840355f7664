"""The whole bot with a recording Telegram channel and a staff group, for the anomaly-alert tests: the
rules run where they run in production (the outbox relay), and what staff and shoppers are told is
what the fake Bot API recorded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest_asyncio

from bot.channels.base import ChannelContext
from bot.channels.telegram.channel import TelegramChannel
from bot.runtime import Runtime
from commerce_core.api import AddressInput, AlertFilter, AlertRule, AlertThresholds, AlertView, Commerce
from commerce_core.clock import FakeClock
from commerce_core.orders.types import LineRequest
from nlu import BuiltinInterpreter
from tests.commerce.factory import ADDRESS, build_shop
from tests.runtime_support import make_runtime
from tests.staff.test_telegram_staff_group import GROUP, ForumSession, sent
from tests.telegram.conftest import FakeTimer, telegram_settings

#: small thresholds so a handful of events crosses them (the defaults are for a real shop)
THRESHOLDS = AlertThresholds(
    payment_failures_per_shopper=3,
    payment_failures_platform=5,
    payment_failure_window_minutes=10,
    large_order_amount=1000.0,  # yuan
    large_order_quantity=8,
    accounts_per_contact=3,
    new_account_days=7,
    refund_loop_orders=3,
    refund_loop_window_hours=72,
)


class Staffed:
    """The runtime, its Telegram session and helpers the tests share."""

    def __init__(self, runtime: Runtime, session: ForumSession) -> None:
        self.runtime = runtime
        self.session = session

    @property
    def commerce(self) -> Commerce:
        return self.runtime.commerce

    async def relay(self) -> None:
        """Deliver the outbox (the rules run here, then the alerts' messages)."""
        await self.runtime.relay_notifications()
        await self.runtime.relay_notifications()

    async def alerts(self, rule: AlertRule | None = None) -> list[AlertView]:
        return await self.commerce.alerts.find(AlertFilter(rule=rule))

    def group_posts(self) -> list[str]:
        return sent(self.session, GROUP)

    def told(self, chat: int) -> list[str]:
        return sent(self.session, chat)

    async def order(
        self,
        customer_id: int,
        key: str,
        *,
        sku: str = "D3-BLU-M",
        quantity: int = 1,
        address: AddressInput | None = None,
    ) -> str:
        """An order shipped to ``address``, by default one of the shopper's own (a phone and street
        no other shopper shares, so the shared-contact rule stays out of tests about other rules)."""
        own = other_address(f"1370000{customer_id:04d}", line=f"人民路{customer_id}号")
        items = [LineRequest(sku, quantity)]
        placed = await self.commerce.orders.place(customer_id, address or own, key, items=items)
        return placed.number

    async def fail_payment(self, number: str, times: int = 1) -> None:
        payment = await self.commerce.payments.start(number)
        for _ in range(times):
            await self.commerce.payments.sandbox_pay(payment.payment_id, succeed=False)

    async def pay(self, number: str) -> None:
        payment = await self.commerce.payments.start(number)
        await self.commerce.payments.sandbox_pay(payment.payment_id)


@pytest_asyncio.fixture
async def staffed(
    db_url: str, tmp_path: Path, clock: FakeClock, interpreter: BuiltinInterpreter
) -> AsyncIterator[Staffed]:
    timer = FakeTimer()
    session = ForumSession(clock=timer.now)

    def telegram(context: ChannelContext) -> TelegramChannel:
        settings = telegram_settings(staff_group_id=GROUP, staff_group_language="en")
        return TelegramChannel(context, settings, session=session, timer=timer)

    rt = await make_runtime(db_url, tmp_path, clock, interpreter, channels={"telegram": telegram})
    rt.commerce.alerts.thresholds = THRESHOLDS
    await build_shop(rt.commerce, stock=100)
    try:
        yield Staffed(rt, session)
    finally:
        await rt.aclose()


def other_address(phone: str = "13912345678", line: str = "浦东新区世纪大道100号8楼") -> AddressInput:
    return replace(ADDRESS, phone=phone, line=line)
