"""The agent console over HTTP: an agent sees the queue, claims, replies (free text and canned, in the
shopper's language), notes, transfers and resolves; merchants and reviewers are refused; the live
stream tells an open console about a shopper's message within a second."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import select

from commerce_core.api import Commerce, TicketStatus
from commerce_core.outbox.model import OutboxMessage
from commerce_core.support.model import AuditEntry
from tests.backoffice.conftest import Browser, People

OpenBrowser = Callable[[], Awaitable[Browser]]


async def _handoff(commerce: Commerce, people: People, key: str = "web:s1", language: str = "zh-Hans") -> str:
    customer = await commerce.customers.identify("web", key, language=language)
    ticket = await commerce.support.open(
        key, "web", "shopper asked for a person", customer_id=customer.id, language=language
    )
    await commerce.support.shopper_said(ticket.number, "我的快递到哪了？")
    return ticket.number


async def test_an_agent_claims_replies_notes_and_resolves(
    commerce: Commerce, people: People, open_browser: OpenBrowser
) -> None:
    number = await _handoff(commerce, people)
    agent = await open_browser()
    await agent.login("agent@example.com")
    status, page = await agent.get("/admin/agent")
    assert status == 200 and number in page and "zh-Hans" in page and "shopper asked for a person" in page
    assert 'data-stream="/admin/agent/stream"' in page and "<script>" not in page

    status, page = await agent.get(f"/admin/agent/c/{number}")
    assert status == 200 and "我的快递到哪了？" in page
    status, page = await agent.post(f"/admin/agent/c/{number}/reply", {"text": "too early"})
    assert "Claim the conversation before replying" in page
    status, page = await agent.post(f"/admin/agent/c/{number}/claim")
    assert status == 200 and "You have the conversation" in page
    status, page = await agent.post(f"/admin/agent/c/{number}/reply", {"text": "您的包裹今天已发出。"})
    assert "Reply sent" in page and "您的包裹今天已发出。" in page
    await agent.post(f"/admin/agent/c/{number}/reply", {"canned": "anything_else", "text": ""})
    await agent.post(f"/admin/agent/c/{number}/note", {"text": "VIP, be quick"})
    said = [(m.author, m.text) for m in await commerce.support.history(number)]
    assert said[1:] == [
        ("agent", "您的包裹今天已发出。"),
        ("agent", "请问还有其他可以帮您的吗？"),  # canned: in the shopper's language, not the agent's
        ("note", "VIP, be quick"),
    ]
    async with commerce.units.orm() as uow:
        replies = (
            await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.event_type == "AgentReplied"))
        ).all()
    assert [r.payload["text"] for r in replies] == ["您的包裹今天已发出。", "请问还有其他可以帮您的吗？"]

    status, page = await agent.post(f"/admin/agent/c/{number}/resolve")
    assert status == 200 and "Resolved" in page and number not in page.split("Complaints")[0].split("<h2>")[1]
    assert (await commerce.support.ticket(number)).status == TicketStatus.RESOLVED
    async with commerce.units.orm() as uow:
        query = select(AuditEntry.actor).where(AuditEntry.target_id == number)
        actors = set((await uow.session.scalars(query)).all())
    assert actors == {people.agent.public_id}


async def test_transfer_to_another_agent(
    commerce: Commerce, people: People, open_browser: OpenBrowser
) -> None:
    number = await _handoff(commerce, people)
    agent = await open_browser()
    await agent.login("agent@example.com")
    await agent.get(f"/admin/agent/c/{number}")
    await agent.post(f"/admin/agent/c/{number}/claim")
    _, page = await agent.post(f"/admin/agent/c/{number}/assign", {"agent": "OPnobody"})
    assert "There is no such agent" in page
    await agent.post(f"/admin/agent/c/{number}/assign", {"agent": people.admin.public_id})
    assert (await commerce.support.ticket(number)).assignee == people.admin.public_id
    _, page = await agent.post(f"/admin/agent/c/{number}/reply", {"text": "still mine?"})
    assert "Claim the conversation before replying" in page


async def test_merchants_and_reviewers_are_refused(
    commerce: Commerce, people: People, reviewer: object, open_browser: OpenBrowser
) -> None:
    number = await _handoff(commerce, people)
    for email in ("owner@acme.example", "reviewer@example.com"):
        other = await open_browser()
        await other.login(email)
        for path in ("/admin/agent", f"/admin/agent/c/{number}", "/admin/agent/stream", "/admin/agent/queue"):
            status, page = await other.get(path)
            assert status == 403, (email, path)
            assert "我的快递" not in page
        await other.get("/admin/account")
        status, _ = await other.post(f"/admin/agent/c/{number}/claim")
        assert status == 403
    assert (await commerce.support.ticket(number)).status == TicketStatus.QUEUED


async def test_unknown_ticket_is_a_404(people: People, open_browser: OpenBrowser) -> None:
    agent = await open_browser()
    await agent.login("agent@example.com")
    status, _ = await agent.get("/admin/agent/c/TKNOPE0000")
    assert status == 404
    status, _ = await agent.post("/admin/agent/c/TKNOPE0000/claim")
    assert status == 404


async def test_the_live_stream_tells_an_open_console_about_a_shopper_message(
    commerce: Commerce, people: People, open_browser: OpenBrowser
) -> None:
    number = await _handoff(commerce, people)
    agent = await open_browser()
    await agent.login("agent@example.com")
    response = await agent.client.get("/admin/agent/stream")
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/event-stream")
    assert (await asyncio.wait_for(response.content.readline(), 10)).startswith(b"retry:")
    await asyncio.sleep(0.3)  # the stream has read the fingerprint it compares against
    said_at = time.monotonic()
    await commerce.support.shopper_said(number, "还在吗？")
    line = b""
    while not line.startswith(b"event: changed"):
        line = await asyncio.wait_for(response.content.readline(), 10)
    assert time.monotonic() - said_at < 5  # generous here; the console's poll is every 0.25 s
    response.close()
    status, fragment = await agent.get(f"/admin/agent/c/{number}/history")
    assert status == 200 and "还在吗？" in fragment and "<html" not in fragment
