"""The console closes a complaint with a category and resolution, and shows the figures per agent and
week (R5.4-2); reviewers see neither."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from commerce_core.api import Commerce, OperatorView, TicketKind, TicketStatus
from tests.backoffice.conftest import Browser, People

OpenBrowser = Callable[[], Awaitable[Browser]]


async def test_a_complaint_is_resolved_in_the_console_and_counted(
    commerce: Commerce, people: People, reviewer: OperatorView, open_browser: OpenBrowser
) -> None:
    customer = await commerce.customers.identify("web", "fb-1", language="en")
    ticket = await commerce.support.open(
        "web:fb-1:feedback",
        "web",
        "complaint: rude courier",
        customer_id=customer.id,
        kind=TicketKind.COMPLAINT,
    )
    agent = await open_browser()
    await agent.login("agent@example.com")
    _, page = await agent.get(f"/admin/agent/c/{ticket.number}")
    assert 'name="category"' in page and 'value="delivery"' in page
    _, page = await agent.post(
        f"/admin/agent/c/{ticket.number}/feedback", {"category": "nonsense", "resolution": "x"}
    )
    assert "Choose a category" in page
    assert (await commerce.support.ticket(ticket.number)).status == TicketStatus.QUEUED
    _, page = await agent.post(
        f"/admin/agent/c/{ticket.number}/feedback",
        {"category": "delivery", "resolution": "Apologised, coupon sent"},
    )
    assert "closed with its resolution" in page
    closed = await commerce.support.ticket(ticket.number)
    assert (closed.status, closed.category, closed.resolution) == (
        "closed",
        "delivery",
        "Apologised, coupon sent",
    )

    status, page = await agent.get("/admin/agent/figures")
    assert status == 200
    assert f'data-agent="{people.agent.public_id}"' in page and 'class="handled">1<' in page

    other = await open_browser()
    await other.login("reviewer@example.com")
    status, _ = await other.get("/admin/agent/figures")
    assert status == 403
