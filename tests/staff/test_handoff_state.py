"""The handoff as conversation state, on SQLite and PostgreSQL: the status machine, the queue, the
history, replies and the hand-back through the outbox, timeouts and ratings."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from commerce_core.api import Commerce, IllegalTransition, NotAllowed, TicketKind, TicketStatus
from commerce_core.clock import FakeClock
from commerce_core.outbox.model import OutboxMessage
from commerce_core.support.model import TICKET_STATUS, AuditEntry
from tests.commerce.factory import build_shop


async def _events(commerce: Commerce, name: str) -> list[dict[str, object]]:
    async with commerce.units.orm() as uow:
        query = select(OutboxMessage).where(OutboxMessage.event_type == name)
        rows = (await uow.session.scalars(query)).all()
        return [dict(r.payload) for r in rows]


def test_the_status_machine_is_bot_waiting_agent_bot() -> None:
    assert TICKET_STATUS.can(TicketStatus.QUEUED, TicketStatus.ASSIGNED)
    assert TICKET_STATUS.can(TicketStatus.QUEUED, TicketStatus.CANCELLED)
    assert TICKET_STATUS.can(TicketStatus.QUEUED, TicketStatus.TIMED_OUT)
    assert TICKET_STATUS.can(TicketStatus.ASSIGNED, TicketStatus.RESOLVED)
    assert not TICKET_STATUS.can(TicketStatus.ASSIGNED, TicketStatus.CANCELLED)
    for done in (TicketStatus.RESOLVED, TicketStatus.CANCELLED, TicketStatus.TIMED_OUT, TicketStatus.CLOSED):
        assert TICKET_STATUS.allowed(done) == frozenset()


async def test_queue_claim_reply_resolve_and_rate(commerce: Commerce) -> None:
    shop = await build_shop(commerce)
    support = commerce.support
    first = await support.open("web:a", "web", "shopper asked", customer_id=shop.customer_id, language="en")
    second = await support.open("web:b", "web", "shopper asked", customer_id=shop.customer_id)
    complaint = await support.open(
        "web:a:feedback:1", "web", "complaint: late", customer_id=shop.customer_id, kind=TicketKind.COMPLAINT
    )
    assert (first.queue_position, second.queue_position, complaint.queue_position) == (1, 2, 1)
    assert [t.number for t in await support.queue(TicketKind.HANDOFF)] == [first.number, second.number]
    assert [t.number for t in await support.queue(TicketKind.COMPLAINT)] == [complaint.number]
    assert (await support.open("web:a", "web", "again", customer_id=shop.customer_id)).number == first.number

    await support.shopper_said(first.number, "where is my parcel?")
    with pytest.raises(NotAllowed):  # nobody replies to a conversation they have not claimed
        await support.reply(first.number, "OPamy", "hello")
    claimed = await support.claim(first.number, "OPamy")
    assert claimed.status == TicketStatus.ASSIGNED and claimed.assignee == "OPamy"
    assert (await support.ticket(second.number)).queue_position == 1
    with pytest.raises(NotAllowed):
        await support.reply(first.number, "OPbob", "not mine")
    transferred = await support.assign_to(first.number, "OPbob", actor="OPamy")
    assert transferred.assignee == "OPbob"
    await support.reply(first.number, "OPbob", "It left the warehouse today.")
    await support.note(first.number, "OPbob", "VIP shopper")
    said = [(m.author, m.text) for m in await support.history(first.number)]
    assert said == [
        ("shopper", "where is my parcel?"),
        ("agent", "It left the warehouse today."),
        ("note", "VIP shopper"),
    ]
    shopper_side = await support.history(first.number, include_notes=False)
    assert [m.author for m in shopper_side] == ["shopper", "agent"]
    [replied] = await _events(commerce, "AgentReplied")
    assert replied["text"] == "It left the warehouse today." and replied["customer_id"] == shop.customer_id

    with pytest.raises(NotAllowed):
        await support.rate(first.number, 5)  # not resolved yet
    resolved = await support.resolve(first.number, actor="OPbob")
    assert resolved.status == TicketStatus.RESOLVED
    assert await support.active_for("web:a") is None
    [ended] = await _events(commerce, "HandoffEnded")
    assert ended["outcome"] == "resolved"
    await support.rate(first.number, 4)
    assert (await support.ticket(first.number)).rating == 4
    with pytest.raises(IllegalTransition):
        await support.resolve(first.number, actor="OPbob")

    async with commerce.units.orm() as uow:
        actions = (
            await uow.session.scalars(
                select(AuditEntry.action).where(AuditEntry.target_id == first.number).order_by(AuditEntry.id)
            )
        ).all()
    assert actions == [
        "ticket_assigned",
        "ticket_transferred",
        "ticket_replied",
        "ticket_noted",
        "ticket_resolved",
    ]


async def test_a_shopper_can_leave_the_queue_and_nobody_is_told(commerce: Commerce) -> None:
    shop = await build_shop(commerce)
    ticket = await commerce.support.open("web:c", "web", "asked", customer_id=shop.customer_id)
    left = await commerce.support.cancel(ticket.number)
    assert left.status == TicketStatus.CANCELLED
    assert await commerce.support.active_for("web:c") is None
    assert await _events(commerce, "HandoffEnded") == []


async def test_nobody_came_in_time(commerce: Commerce, clock: FakeClock) -> None:
    shop = await build_shop(commerce)
    support = commerce.support
    support.settings = type(support.settings)(wait_limit_seconds=120)
    waiting = await support.open("web:d", "web", "asked", customer_id=shop.customer_id)
    assert await support.expire_if_overdue(waiting.number) is None
    assert await support.expire_overdue() == []
    clock.advance(seconds=121)
    assert await support.expire_overdue() == [waiting.number]
    assert (await support.ticket(waiting.number)).status == TicketStatus.TIMED_OUT
    [ended] = await _events(commerce, "HandoffEnded")
    assert ended["outcome"] == "timed_out"


async def test_history_is_erased_with_the_shopper_and_after_the_retention(
    commerce: Commerce, clock: FakeClock
) -> None:
    shop = await build_shop(commerce)
    support = commerce.support
    ticket = await support.open("web:e", "web", "asked", customer_id=shop.customer_id)
    await support.shopper_said(ticket.number, "my phone is 13800001111")
    clock.advance(days=31)
    await support.shopper_said(ticket.number, "still there?")
    assert await support.forget_history() == 1
    assert [m.text for m in await support.history(ticket.number)] == ["still there?"]
    await commerce.privacy.erase(shop.customer_id, actor="system")
    assert await support.history(ticket.number) == []


def test_working_hours() -> None:
    from commerce_core.api import SupportSettings

    assert SupportSettings().open_at(3)
    office = SupportSettings(working_hours_start=9, working_hours_end=18)
    assert office.open_at(9) and office.open_at(17) and not office.open_at(18) and not office.open_at(3)
    night = SupportSettings(working_hours_start=22, working_hours_end=6)
    assert night.open_at(23) and night.open_at(2) and not night.open_at(12)
