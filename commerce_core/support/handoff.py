"""The live handoff: a person takes over a conversation and gives it back to the bot.

Why on top of :class:`SupportService`: a handoff is a ticket of kind ``handoff`` whose status IS the
conversation's state (queued = waiting, assigned = with an agent, resolved/cancelled/timed out = the
bot again), so the pipeline asks one question per turn (``active_for``) and the console works the same
rows. Everything staff do is written to the audit log; replies and the hand-back are outbox events, so
they reach the shopper's channel in order with the rest of their notifications.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from commerce_core.errors import InvalidInput, NotAllowed, NotFound
from commerce_core.events import AgentReplied, HandoffEnded, ShopperWroteToStaff
from commerce_core.ids import normalise_public_id
from commerce_core.status import StatusChange
from commerce_core.support.model import TICKET_STATUS, AuditEntry, Ticket, TicketMessage
from commerce_core.support.service import SupportService
from commerce_core.support.staff import FEEDBACK_KINDS, FeedbackResolution, StaffGroupTopics
from commerce_core.support.types import (
    FeedbackCategory,
    HandoffMessage,
    MessageAuthor,
    SupportSettings,
    TicketKind,
    TicketStatus,
    TicketView,
)
from commerce_core.uow import UnitOfWork, Units
from commerce_core.validation import clean_text

HISTORY_LIMIT = 200
MESSAGE_LIMIT = 2000


class HandoffService(SupportService, StaffGroupTopics, FeedbackResolution):
    def __init__(self, units: Units, settings: SupportSettings | None = None) -> None:
        super().__init__(units)
        self.settings = settings or SupportSettings()

    # -- reads -------------------------------------------------------------------------------------

    async def ticket(self, number: str) -> TicketView:
        async with self._units.orm() as uow:
            return await self._view(uow, await self._find(uow, number))

    async def history(self, number: str, *, include_notes: bool = True) -> list[HandoffMessage]:
        """The handed-off conversation, oldest first (the last ``HISTORY_LIMIT`` lines)."""
        async with self._units.orm() as uow:
            ticket = await self._find(uow, number, lock=False)
            query = select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)
            if not include_notes:
                query = query.where(TicketMessage.author != MessageAuthor.NOTE.value)
            newest_first = query.order_by(TicketMessage.id.desc()).limit(HISTORY_LIMIT)
            rows = (await uow.session.scalars(newest_first)).all()
            return [
                HandoffMessage(r.id, r.author, r.author_name, r.text, r.at, r.file_key)
                for r in reversed(rows)
            ]

    async def version(self) -> tuple[int, int, int]:
        """A cheap fingerprint of everything the console shows: it changes when a message is written,
        a ticket changes status, or staff act on one (the console's live stream polls it)."""
        async with self._units.orm() as uow:
            row = (
                await uow.session.execute(
                    select(
                        select(func.coalesce(func.max(TicketMessage.id), 0)).scalar_subquery(),
                        select(func.coalesce(func.max(StatusChange.id), 0))
                        .where(StatusChange.entity_type == "ticket")
                        .scalar_subquery(),
                        select(func.coalesce(func.max(AuditEntry.id), 0))
                        .where(AuditEntry.target_type == "ticket")
                        .scalar_subquery(),
                    )
                )
            ).one()
            return int(row[0]), int(row[1]), int(row[2])

    def expected_wait_minutes(self, position: int) -> int:
        return max(1, position * self.settings.expected_minutes_per_shopper)

    def staffed_at(self, moment: datetime) -> bool:
        return self.settings.open_at(moment.hour)

    # -- the shopper's side ------------------------------------------------------------------------

    async def shopper_said(self, number: str, text: str, *, file_key: str | None = None) -> None:
        """The shopper's message (or photo: ``file_key`` from the file store) during the handoff."""
        await self._write(number, MessageAuthor.SHOPPER, None, text, audit=None, file_key=file_key)

    async def cancel(self, number: str) -> TicketView:
        """The shopper left the queue (or the conversation): the bot is back, nobody is told."""
        return await self._move(number, TicketStatus.CANCELLED, "shopper")

    async def expire_if_overdue(self, number: str) -> TicketView | None:
        """Time out a handoff nobody claimed within the limit; returns it if it was timed out now."""
        async with self._units.orm() as uow:
            ticket = await self._find(uow, number)
            limit = timedelta(seconds=self.settings.wait_limit_seconds)
            if ticket.status != TicketStatus.QUEUED.value or uow.now() - ticket.created_at < limit:
                return None
            await self._transition(uow, ticket, TicketStatus.TIMED_OUT, "system")
            view = await self._view(uow, ticket)
            await uow.commit()
            return view

    async def expire_overdue(self) -> list[str]:
        """Time out every handoff waiting longer than the limit (a sweep; the shopper is told through
        the outbox), returning their numbers."""
        async with self._units.orm() as uow:
            cutoff = uow.now() - timedelta(seconds=self.settings.wait_limit_seconds)
            rows = (
                await uow.session.scalars(
                    select(Ticket)
                    .where(
                        Ticket.kind == TicketKind.HANDOFF.value,
                        Ticket.status == TicketStatus.QUEUED.value,
                        Ticket.created_at < cutoff,
                    )
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for ticket in rows:
                await self._transition(uow, ticket, TicketStatus.TIMED_OUT, "system")
            await uow.commit()
            return [t.number for t in rows]

    async def rate(self, number: str, rating: int) -> None:
        if not 1 <= rating <= 5:
            raise InvalidInput("a rating is 1 to 5", code="rating_range")
        async with self._units.orm() as uow:
            ticket = await self._find(uow, number)
            if ticket.status != TicketStatus.RESOLVED.value:
                raise NotAllowed("only a resolved handoff is rated", code="ticket_not_resolved")
            ticket.rating = rating
            await uow.commit()

    # -- the agent's side --------------------------------------------------------------------------

    async def claim(self, number: str, agent: str) -> TicketView:
        return await self.assign_to(number, agent, actor=agent)

    async def assign_to(self, number: str, agent: str, *, actor: str) -> TicketView:
        """Give a waiting conversation to ``agent``, or transfer one already with an agent."""
        agent = clean_text(agent, "agent", max_length=96)
        async with self._units.orm() as uow:
            ticket = await self._find(uow, number)
            if ticket.status == TicketStatus.ASSIGNED.value:
                previous, ticket.assignee = ticket.assignee, agent
                self._audit(uow, actor, "ticket_transferred", ticket, {"from": previous, "to": agent})
            else:
                await self._transition(uow, ticket, TicketStatus.ASSIGNED, actor, assignee=agent)
            view = await self._view(uow, ticket)
            await uow.commit()
            return view

    async def release(self, number: str, *, actor: str) -> TicketView:
        """Put a conversation back in the queue for someone else to claim."""
        return await self._move(number, TicketStatus.QUEUED, f"staff:{actor}")

    async def reply(self, number: str, agent: str, text: str) -> HandoffMessage:
        """The agent's answer: written to the history and sent to the shopper through the outbox."""
        return await self._write(number, MessageAuthor.AGENT, agent, text, audit="ticket_replied")

    async def note(self, number: str, agent: str, text: str) -> HandoffMessage:
        return await self._write(number, MessageAuthor.NOTE, agent, text, audit="ticket_noted")

    async def resolve(self, number: str, *, actor: str) -> TicketView:
        async with self._units.orm() as uow:
            ticket = await self._find(uow, number)
            target = TicketStatus.RESOLVED if ticket.kind == TicketKind.HANDOFF.value else TicketStatus.CLOSED
            await self._transition(uow, ticket, target, actor)
            view = await self._view(uow, ticket)
            await uow.commit()
            return view

    async def resolve_feedback(
        self, number: str, *, actor: str, category: FeedbackCategory, resolution: str
    ) -> TicketView:
        """Close a complaint/feedback ticket with what it was about and how it was settled (R5.4-2)."""
        resolution = clean_text(resolution, "resolution", max_length=500)
        async with self._units.orm() as uow:
            ticket = await self._find(uow, number)
            if ticket.kind not in FEEDBACK_KINDS:
                raise NotAllowed("a handoff is resolved, not categorised", code="ticket_not_feedback")
            if ticket.status == TicketStatus.QUEUED.value:
                await self._transition(uow, ticket, TicketStatus.ASSIGNED, actor, assignee=actor)
            await self._transition(uow, ticket, TicketStatus.CLOSED, actor)
            ticket.category, ticket.resolution = category.value, resolution
            ticket.first_response_at = ticket.first_response_at or uow.now()
            self._audit(uow, actor, "ticket_categorised", ticket, {"category": category.value})
            view = await self._view(uow, ticket)
            await uow.commit()
            return view

    # -- retention ---------------------------------------------------------------------------------

    async def forget_history(self, *, older_than: datetime | None = None) -> int:
        """Erase handoff messages past the retention (R7.1-3); returns how many went."""
        async with self._units.orm() as uow:
            cutoff = older_than or uow.now() - timedelta(days=self.settings.history_retention_days)
            result = await uow.session.execute(delete(TicketMessage).where(TicketMessage.at < cutoff))
            await uow.commit()
            return int(getattr(result, "rowcount", 0) or 0)

    # -- internals ---------------------------------------------------------------------------------

    async def _find(self, uow: UnitOfWork, number: str, *, lock: bool = True) -> Ticket:
        query = select(Ticket).where(Ticket.number == normalise_public_id(number))
        ticket = await uow.session.scalar(query.with_for_update() if lock else query)
        if ticket is None:
            raise NotFound("no such ticket", code="ticket_not_found")
        return ticket

    async def _transition(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        target: TicketStatus,
        actor: str,
        *,
        assignee: str | None = None,
    ) -> None:
        current = TicketStatus(ticket.status)
        TICKET_STATUS.check(current, target)
        ticket.status = target.value
        if target is TicketStatus.ASSIGNED:
            ticket.assignee, ticket.assigned_at = assignee, uow.now()
        elif target is TicketStatus.QUEUED:
            ticket.assignee = None
        else:
            ticket.closed_at = uow.now()
        uow.record_status("ticket", ticket.id, current.value, target.value, actor)
        if actor != "shopper":
            self._audit(uow, actor, f"ticket_{target.value}", ticket, {"assignee": assignee})
        ended = target in (TicketStatus.RESOLVED, TicketStatus.TIMED_OUT)
        if ended and ticket.kind == TicketKind.HANDOFF.value and ticket.customer_id is not None:
            uow.emit(HandoffEnded(ticket.number, ticket.customer_id, target.value))

    def _audit(
        self, uow: UnitOfWork, actor: str, action: str, ticket: Ticket, details: dict[str, object]
    ) -> None:
        uow.session.add(
            AuditEntry(
                actor=actor[:96],
                action=action[:64],
                target_type="ticket",
                target_id=ticket.number,
                details=details,
                at=uow.now(),
            )
        )

    async def _write(
        self,
        number: str,
        author: MessageAuthor,
        name: str | None,
        text: str,
        *,
        audit: str | None,
        file_key: str | None = None,
    ) -> HandoffMessage:
        text = clean_text(text, "text", max_length=MESSAGE_LIMIT)
        async with self._units.orm() as uow:
            ticket = await self._find(uow, number, lock=author is not MessageAuthor.SHOPPER)
            if author is MessageAuthor.AGENT:
                if ticket.status != TicketStatus.ASSIGNED.value or ticket.assignee != name:
                    raise NotAllowed("claim the conversation before replying", code="ticket_not_yours")
            elif ticket.status not in (TicketStatus.QUEUED.value, TicketStatus.ASSIGNED.value):
                raise NotAllowed("the conversation is back with the bot", code="ticket_closed")
            message = TicketMessage(
                ticket_id=ticket.id,
                customer_id=ticket.customer_id,
                author=author.value,
                author_name=name,
                text=text,
                at=uow.now(),
                file_key=file_key,
            )
            uow.session.add(message)
            await uow.flush()
            if audit is not None:
                self._audit(uow, name or "system", audit, ticket, {"message": message.id})
            if author is MessageAuthor.AGENT:
                ticket.first_response_at = ticket.first_response_at or message.at
            if author is MessageAuthor.AGENT and ticket.customer_id is not None:
                uow.emit(AgentReplied(ticket.number, ticket.customer_id, text))
            if author is MessageAuthor.SHOPPER and ticket.customer_id is not None:
                event = ShopperWroteToStaff(
                    ticket.number, ticket.conversation_key, ticket.customer_id, text, file_key
                )
                uow.emit(event)
            await uow.commit()
            return HandoffMessage(message.id, message.author, name, text, message.at, file_key)
