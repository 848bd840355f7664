"""Feedback to resolution (R5.4-2), on SQLite and PostgreSQL: a complaint or feedback ticket is closed
with a category and how it was resolved (audited); a live handoff cannot be; the figures per agent and
week give first-response time, resolution time and rating; retention and erasure reach the new rows."""

from __future__ import annotations

import pytest

from commerce_core.api import Commerce, FeedbackCategory, NotAllowed, TicketKind, TicketStatus
from commerce_core.clock import FakeClock
from commerce_core.support.staff import iso_week
from tests.commerce.factory import build_shop


async def test_a_complaint_is_closed_with_a_category_and_a_handoff_is_not(commerce: Commerce) -> None:
    shop = await build_shop(commerce)
    support = commerce.support
    complaint = await support.open(
        "web:c1:feedback:1",
        "web",
        "complaint: parcel late",
        customer_id=shop.customer_id,
        kind=TicketKind.COMPLAINT,
    )
    closed = await support.resolve_feedback(
        complaint.number,
        actor="OPamy",
        category=FeedbackCategory.DELIVERY,
        resolution="Refunded the shipping fee",
    )
    assert closed.status == TicketStatus.CLOSED
    assert (closed.category, closed.resolution) == ("delivery", "Refunded the shipping fee")
    assert closed.assignee == "OPamy"  # who resolved it is whose figures it counts in
    actions = [action for _, action, _ in await support.audit_trail("ticket", complaint.number)]
    assert "ticket_categorised" in actions and "ticket_closed" in actions

    handoff = await support.open("web:c2", "web", "asked for a person", customer_id=shop.customer_id)
    with pytest.raises(NotAllowed):
        await support.resolve_feedback(
            handoff.number, actor="OPamy", category=FeedbackCategory.OTHER, resolution="no"
        )
    assert (await support.ticket(handoff.number)).status == TicketStatus.QUEUED


async def test_figures_per_agent_and_week(commerce: Commerce, clock: FakeClock) -> None:
    shop = await build_shop(commerce)
    support = commerce.support
    week = iso_week(clock.now())
    for key, first_reply, resolved_after, rating in (("web:f1", 2, 10, 4), ("web:f2", 4, 20, 2)):
        ticket = await support.open(key, "web", "asked", customer_id=shop.customer_id)
        await support.claim(ticket.number, "OPamy")
        clock.advance(minutes=first_reply)
        await support.reply(ticket.number, "OPamy", "Hello")
        clock.advance(minutes=resolved_after - first_reply)
        await support.resolve(ticket.number, actor="OPamy")
        await support.rate(ticket.number, rating)
    complaint = await support.open(
        "web:f3:feedback", "web", "complaint", customer_id=shop.customer_id, kind=TicketKind.FEEDBACK
    )
    clock.advance(minutes=30)
    await support.resolve_feedback(
        complaint.number, actor="OPbob", category=FeedbackCategory.WEBSITE, resolution="Fixed the page"
    )
    still_open = await support.open("web:f4", "web", "asked", customer_id=shop.customer_id)
    await support.claim(still_open.number, "OPbob")  # open tickets are not in the figures yet

    figures = {f.agent: f for f in await support.agent_figures()}
    amy, bob = figures["OPamy"], figures["OPbob"]
    assert (amy.week, amy.handled, amy.ratings) == (week, 2, 2)
    assert amy.first_response_seconds == pytest.approx(180)  # (2 + 4) / 2 minutes
    assert amy.resolution_seconds == pytest.approx(900)  # (10 + 20) / 2 minutes
    assert amy.rating == pytest.approx(3.0)
    assert (bob.handled, bob.rating, bob.ratings) == (1, None, 0)
    assert bob.resolution_seconds == pytest.approx(1800)

    clock.advance(days=70)  # older than the figures' eight weeks
    assert await support.agent_figures() == []


async def test_history_and_photo_keys_go_with_the_retention(commerce: Commerce, clock: FakeClock) -> None:
    shop = await build_shop(commerce)
    support = commerce.support
    ticket = await support.open("web:r1", "web", "asked", customer_id=shop.customer_id)
    await support.shopper_said(ticket.number, "[photo]", file_key="handoff:x/" + "a" * 64 + "/image/jpeg/10")
    assert [m.file_key is not None for m in await support.history(ticket.number)] == [True]
    clock.advance(days=support.settings.history_retention_days + 1)
    assert await support.forget_history() == 1
    assert await support.history(ticket.number) == []


async def test_erasing_the_shopper_erases_their_history_and_staff_topic(commerce: Commerce) -> None:
    """R7.1-3: the handed-off conversation and the staff group's topic of it go with the shopper."""
    shop = await build_shop(commerce)
    support = commerce.support
    ticket = await support.open("telegram:990", "telegram", "asked", customer_id=shop.customer_id)
    await support.shopper_said(ticket.number, "my phone is 13812345678")
    await support.remember_staff_topic("telegram:990", "-100123", 77)
    other = await support.open("telegram:991", "telegram", "asked", customer_id=None)
    await support.remember_staff_topic("telegram:991", "-100123", 78)
    await commerce.privacy.erase(shop.customer_id, actor="admin")
    assert await support.history(ticket.number) == []
    assert await support.staff_topic("telegram:990") is None
    assert await support.staff_topic("telegram:991") is not None  # someone else's stays
    assert await support.conversation_of_topic("-100123", 78) == other.conversation_key
