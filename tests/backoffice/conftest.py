"""Fixtures for the back office: the real core (SQLite file, the test shop plus a second merchant with
its own product and orders), operator accounts of every kind, and the pages served over real HTTP."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.backoffice import BackofficeConfig, setup_backoffice
from bot.settings import Settings
from commerce_core.api import SYSTEM_ACTOR, Commerce, OperatorPolicy, OperatorRole, OperatorView
from commerce_core.orders.types import LineRequest
from tests.commerce.factory import ADDRESS, add_bolt, build_shop
from tests.runtime_support import sqlite_copy

PASSWORD = "correct horse battery"
SECRET = "back-office-test-secret-0123456789abcdef"
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return sqlite_copy(request, tmp_path)


@dataclass(frozen=True)
class People:
    admin: OperatorView
    agent: OperatorView
    owner_a: OperatorView  # owns "acme" (the test shop)
    owner_b: OperatorView  # owns "bolt"
    order_a: str
    order_b: str


@pytest_asyncio.fixture
async def people(commerce: Commerce) -> People:
    commerce.operators.policy = OperatorPolicy(hash_time_cost=1, hash_memory_kib=256, hash_parallelism=1)
    shop = await build_shop(commerce)
    await add_bolt(commerce)
    order_a = await commerce.orders.place(shop.customer_id, ADDRESS, "a", items=[LineRequest("D2-BLK-S", 1)])
    order_b = await commerce.orders.place(shop.customer_id, ADDRESS, "b", items=[LineRequest("B1-STD", 2)])

    async def make(email: str, role: OperatorRole, merchant: str | None = None) -> OperatorView:
        name = email.split("@")[0]
        return await commerce.operators.create(
            email, PASSWORD, role, merchant_code=merchant, display_name=name, actor=SYSTEM_ACTOR
        )

    return People(
        admin=await make("admin@example.com", OperatorRole.ADMIN),
        agent=await make("agent@example.com", OperatorRole.AGENT),
        owner_a=await make("owner@acme.example", OperatorRole.MERCHANT_OWNER, "acme"),
        owner_b=await make("owner@bolt.example", OperatorRole.MERCHANT_OWNER, "bolt"),
        order_a=order_a.number,
        order_b=order_b.number,
    )


class Browser:
    """A test client that behaves like a browser tab: it keeps cookies and sends the page's CSRF token."""

    def __init__(self, client: TestClient[web.Request, web.Application]) -> None:
        self.client = client
        self.token = ""

    async def get(self, path: str, **kwargs: Any) -> tuple[int, str]:
        response = await self.client.get(path, **kwargs)
        body = await response.text()
        if found := CSRF_FIELD.search(body):
            self.token = found.group(1)
        return response.status, body

    async def post(
        self, path: str, data: dict[str, str] | None = None, *, csrf: bool = True
    ) -> tuple[int, str]:
        """POST a form as the page would (with its CSRF token unless ``csrf=False``), following redirects."""
        fields = dict(data or {})
        if csrf:
            fields.setdefault("csrf", self.token)
        response = await self.client.post(path, data=fields)
        body = await response.text()
        if found := CSRF_FIELD.search(body):
            self.token = found.group(1)
        return response.status, body

    async def login(self, email: str, password: str = PASSWORD) -> tuple[int, str]:
        await self.get("/admin/login")
        return await self.post("/admin/login", {"email": email, "password": password})

    def cookie(self) -> str | None:
        for morsel in self.client.session.cookie_jar:
            if morsel.key == "shopbot_backoffice":
                return morsel.value
        return None


def backoffice_app(commerce: Commerce, tmp_path: Path) -> web.Application:
    app = web.Application()
    config = BackofficeConfig(secret=SECRET, secure_cookies=False)
    setup_backoffice(app, commerce, Settings(data_dir=tmp_path), config=config)
    return app


@pytest_asyncio.fixture
async def browser(commerce: Commerce, people: People, tmp_path: Path) -> AsyncIterator[Browser]:
    server = TestServer(backoffice_app(commerce, tmp_path), host="127.0.0.1")
    async with TestClient(server, headers={"Accept-Language": "en"}) as client:
        yield Browser(client)
