"""The agent console over real HTTP: the back office's fixtures (SQLite, operators of every role, a
browser-like client) plus a reviewer, who must not see conversations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from commerce_core.api import SYSTEM_ACTOR, Commerce, OperatorRole, OperatorView
from tests.backoffice.conftest import PASSWORD, Browser, People, backoffice_app, db_url, people

__all__ = ["PASSWORD", "Browser", "People", "db_url", "people"]


@pytest_asyncio.fixture
async def reviewer(commerce: Commerce, people: People) -> OperatorView:
    return await commerce.operators.create(
        "reviewer@example.com", PASSWORD, OperatorRole.REVIEWER, display_name="rev", actor=SYSTEM_ACTOR
    )


@pytest_asyncio.fixture
async def server(commerce: Commerce, people: People, tmp_path: Path) -> AsyncIterator[TestServer]:
    server = TestServer(backoffice_app(commerce, tmp_path), host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


@pytest_asyncio.fixture
async def open_browser(server: TestServer) -> AsyncIterator[object]:
    """A factory of browser tabs (each its own cookies) on the one server."""
    clients: list[TestClient] = []  # type: ignore[type-arg]

    async def make() -> Browser:
        client: TestClient = TestClient(server, headers={"Accept-Language": "en"})  # type: ignore[type-arg]
        await client.start_server()
        clients.append(client)
        return Browser(client)

    yield make
    for client in clients:
        await client.close()
