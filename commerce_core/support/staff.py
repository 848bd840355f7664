"""What the handoff needs beyond the live conversation: the Telegram staff group's topics, complaints and
feedback tracked to a resolution with a category, and the per-agent, per-week figures (R5.4-2).

Why a mixin of :class:`~commerce_core.support.handoff.HandoffService`: the same rows and the same
unit of work, but kept apart so neither module grows past a screenful of concerns.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from commerce_core.support.model import StaffTopic, Ticket, TicketMessage
from commerce_core.support.types import (
    AgentFigures,
    MessageAuthor,
    StaffTopicView,
    TicketKind,
    TicketStatus,
)
from commerce_core.uow import UnitOfWork, Units

#: tickets whose resolution is tracked with a category (handoffs end by being resolved instead)
FEEDBACK_KINDS = frozenset({TicketKind.COMPLAINT.value, TicketKind.FEEDBACK.value, TicketKind.MESSAGE.value})


def iso_week(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


class StaffGroupTopics:
    _units: Units

    async def staff_topic(self, conversation_key: str) -> StaffTopicView | None:
        async with self._units.orm() as uow:
            row = await uow.session.scalar(
                select(StaffTopic).where(StaffTopic.conversation_key == conversation_key)
            )
            return StaffTopicView(row.conversation_key, row.chat_id, row.thread_id) if row else None

    async def remember_staff_topic(self, conversation_key: str, chat_id: str, thread_id: int) -> None:
        """Keep (or replace: the old one was deleted) the conversation's topic."""
        async with self._units.orm() as uow:
            row = await uow.session.scalar(
                select(StaffTopic).where(StaffTopic.conversation_key == conversation_key).with_for_update()
            )
            if row is None:
                uow.session.add(
                    StaffTopic(
                        conversation_key=conversation_key[:160],
                        chat_id=str(chat_id)[:32],
                        thread_id=thread_id,
                        created_at=uow.now(),
                    )
                )
            else:
                row.chat_id, row.thread_id, row.created_at = str(chat_id)[:32], thread_id, uow.now()
            try:
                await uow.commit()
            except IntegrityError:  # another process remembered one at the same moment: theirs stays
                return

    async def conversation_of_topic(self, chat_id: str, thread_id: int) -> str | None:
        async with self._units.orm() as uow:
            return await uow.session.scalar(
                select(StaffTopic.conversation_key).where(
                    StaffTopic.chat_id == str(chat_id), StaffTopic.thread_id == thread_id
                )
            )


class FeedbackResolution:
    _units: Units

    async def agent_figures(self, *, weeks: int = 8) -> list[AgentFigures]:
        """First-response time, resolution time and rating per agent and ISO week, newest week first.

        An agent's ticket is one they held when it ended (resolved or closed); first response is from
        the ticket's creation to the first agent message (or the categorised closing), resolution to
        the end."""
        async with self._units.orm() as uow:
            since = uow.now() - timedelta(weeks=weeks)
            tickets = (
                await uow.session.scalars(
                    select(Ticket).where(
                        Ticket.status.in_([TicketStatus.RESOLVED.value, TicketStatus.CLOSED.value]),
                        Ticket.closed_at >= since,
                        Ticket.assignee.is_not(None),
                    )
                )
            ).all()
            first_agent = await _first_agent_messages(uow, [t.id for t in tickets])
        groups: dict[tuple[str, str], list[Ticket]] = defaultdict(list)
        for ticket in tickets:
            assert ticket.closed_at is not None and ticket.assignee is not None
            groups[(ticket.assignee, iso_week(ticket.closed_at))].append(ticket)
        figures = []
        for (agent, week), rows in groups.items():
            firsts = [
                (answered - t.created_at).total_seconds()
                for t in rows
                if (answered := first_agent.get(t.id) or t.first_response_at) is not None
            ]
            ends = [(t.closed_at - t.created_at).total_seconds() for t in rows if t.closed_at]
            rated = [t.rating for t in rows if t.rating is not None]
            figures.append(
                AgentFigures(
                    agent,
                    week,
                    len(rows),
                    sum(firsts) / len(firsts) if firsts else None,
                    sum(ends) / len(ends) if ends else None,
                    sum(rated) / len(rated) if rated else None,
                    len(rated),
                )
            )
        return sorted(figures, key=lambda f: (f.week, f.agent), reverse=True)


async def _first_agent_messages(uow: UnitOfWork, ticket_ids: list[int]) -> dict[int, datetime]:
    if not ticket_ids:
        return {}
    rows = await uow.session.execute(
        select(TicketMessage.ticket_id, TicketMessage.at)
        .where(TicketMessage.ticket_id.in_(ticket_ids), TicketMessage.author == MessageAuthor.AGENT.value)
        .order_by(TicketMessage.id)
    )
    found: dict[int, datetime] = {}
    for ticket_id, at in rows.all():
        found.setdefault(ticket_id, at)
    return found
