"""Fixtures for the merchants' tests: the whole bot with a recording Telegram bot (as in tests/telegram),
a second merchant, an owner account for each, and the back office over real HTTP on the same core."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from bot.runtime import Runtime
from commerce_core.api import SYSTEM_ACTOR, Actor, Commerce, OperatorPolicy, OperatorRole, OperatorView
from commerce_core.orders.types import LineRequest
from tests.backoffice.conftest import PASSWORD, Browser, backoffice_app
from tests.commerce.factory import ADDRESS, add_bolt
from tests.telegram.conftest import channel, client, db_url, runtime, session, timer  # noqa: F401

__all__ = ["PASSWORD", "Team"]

SHOPPER_CHAT = "7001"


@dataclass(frozen=True)
class Team:
    owner_a: OperatorView  # acme: sells the dresses; reads English
    owner_b: OperatorView  # bolt: sells the wrench; reads Simplified Chinese
    acme: int
    bolt: int
    shopper: int  # a customer whose Telegram chat is SHOPPER_CHAT


@pytest_asyncio.fixture
async def commerce(runtime: Runtime) -> Commerce:  # noqa: F811 - the runtime's own core
    return runtime.commerce


@pytest_asyncio.fixture
async def team(commerce: Commerce) -> Team:
    commerce.operators.policy = OperatorPolicy(hash_time_cost=1, hash_memory_kib=256, hash_parallelism=1)
    bolt = await add_bolt(commerce)

    async def owner(email: str, merchant: str, language: str) -> OperatorView:
        return await commerce.operators.create(
            email,
            PASSWORD,
            OperatorRole.MERCHANT_OWNER,
            merchant_code=merchant,
            display_name=merchant,
            language=language,
            actor=SYSTEM_ACTOR,
        )

    shopper = await commerce.customers.identify("telegram", SHOPPER_CHAT, language="zh-Hans")
    return Team(
        owner_a=await owner("owner@acme.example", "acme", "en"),
        owner_b=await owner("owner@bolt.example", "bolt", "zh-Hans"),
        acme=(await commerce.merchants.get("acme")).id,
        bolt=bolt.id,
        shopper=shopper.id,
    )


async def paid_two_merchant_order(commerce: Commerce, team: Team, key: str = "two") -> str:
    order = await commerce.orders.place(
        team.shopper, ADDRESS, key, items=[LineRequest("D1-RED-M", 1), LineRequest("B1-STD", 2)]
    )
    await commerce.payments.sandbox_pay((await commerce.payments.start(order.number)).payment_id)
    return order.number


async def bind(commerce: Commerce, operator: OperatorView, chat: str) -> None:
    code = await commerce.operators.issue_binding_code(operator.public_id, Actor(operator.public_id, None))
    await commerce.operators.redeem_binding_code("telegram", chat, code)


@pytest_asyncio.fixture
async def browser(commerce: Commerce, team: Team, tmp_path: Path) -> AsyncIterator[Browser]:
    server = TestServer(backoffice_app(commerce, tmp_path), host="127.0.0.1")
    async with TestClient(server, headers={"Accept-Language": "en"}) as test_client:
        yield Browser(test_client)
