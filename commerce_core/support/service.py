"""Human handoff tickets and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from commerce_core.errors import NotFound
from commerce_core.events import HandoffRequested
from commerce_core.ids import TICKET_PREFIX, new_public_id, normalise_public_id
from commerce_core.support.model import TICKET_STATUS, AuditEntry, Ticket
from commerce_core.support.types import TicketKind, TicketStatus, TicketView
from commerce_core.uow import UnitOfWork, Units
from commerce_core.validation import clean_text

OPEN = [TicketStatus.QUEUED.value, TicketStatus.ASSIGNED.value]


class SupportService:
    def __init__(self, units: Units) -> None:
        self._units = units

    async def _view(self, uow: UnitOfWork, t: Ticket) -> TicketView:
        position = 0
        if t.status == TicketStatus.QUEUED.value:
            ahead = await uow.session.scalar(
                select(func.count(Ticket.id)).where(
                    Ticket.kind == t.kind, Ticket.status == TicketStatus.QUEUED.value, Ticket.id < t.id
                )
            )
            position = (ahead or 0) + 1
        return TicketView(
            t.number,
            t.conversation_key,
            t.channel,
            t.customer_id,
            t.status,
            t.assignee,
            t.reason,
            t.created_at,
            position,
            t.kind,
            t.language,
            t.rating,
            t.category,
            t.resolution,
        )

    async def open(
        self,
        conversation_key: str,
        channel: str,
        reason: str,
        *,
        customer_id: int | None,
        kind: TicketKind = TicketKind.HANDOFF,
        language: str | None = None,
    ) -> TicketView:
        """Queue a ticket (a handoff, or a complaint/feedback in their own queue); a conversation that
        already has an open ticket gets that one back."""
        reason = clean_text(reason, "reason", max_length=500)
        async with self._units.orm() as uow:
            existing = await uow.session.scalar(
                select(Ticket)
                .where(Ticket.conversation_key == conversation_key, Ticket.status.in_(OPEN))
                .with_for_update()
            )
            if existing is not None:
                return await self._view(uow, existing)
            ticket = Ticket(
                number=new_public_id(TICKET_PREFIX),
                conversation_key=conversation_key[:160],
                channel=channel[:16],
                reason=reason,
                customer_id=customer_id,
                status=TicketStatus.QUEUED.value,
                created_at=uow.now(),
                kind=kind.value,
                language=(language or None) and language[:8],
            )
            uow.session.add(ticket)
            await uow.flush()
            uow.record_status("ticket", ticket.id, None, TicketStatus.QUEUED.value, "system")
            uow.emit(HandoffRequested(ticket.number, conversation_key, reason))
            view = await self._view(uow, ticket)
            await uow.commit()
            return view

    async def active_for(self, conversation_key: str) -> TicketView | None:
        async with self._units.orm() as uow:
            ticket = await uow.session.scalar(
                select(Ticket).where(Ticket.conversation_key == conversation_key, Ticket.status.in_(OPEN))
            )
            return await self._view(uow, ticket) if ticket else None

    async def queue(self, kind: TicketKind | None = None) -> list[TicketView]:
        """Open tickets, oldest first; ``kind`` picks one queue (handoffs, complaints, feedback)."""
        async with self._units.orm() as uow:
            query = select(Ticket).where(Ticket.status.in_(OPEN))
            if kind is not None:
                query = query.where(Ticket.kind == kind.value)
            rows = (await uow.session.scalars(query.order_by(Ticket.id))).all()
            return [await self._view(uow, t) for t in rows]

    async def _move(
        self, number: str, target: TicketStatus, actor: str, assignee: str | None = None
    ) -> TicketView:
        async with self._units.orm() as uow:
            ticket = await uow.session.scalar(
                select(Ticket).where(Ticket.number == normalise_public_id(number)).with_for_update()
            )
            if ticket is None:
                raise NotFound("no such ticket", code="ticket_not_found")
            current = TicketStatus(ticket.status)
            TICKET_STATUS.check(current, target)
            ticket.status = target.value
            if target is TicketStatus.ASSIGNED:
                ticket.assignee, ticket.assigned_at = assignee, uow.now()
            elif target is TicketStatus.CLOSED:
                ticket.closed_at = uow.now()
            uow.record_status("ticket", ticket.id, current.value, target.value, actor)
            uow.session.add(
                AuditEntry(
                    actor=actor,
                    action=f"ticket_{target.value}",
                    target_type="ticket",
                    target_id=ticket.number,
                    details={"assignee": assignee},
                    at=uow.now(),
                )
            )
            view = await self._view(uow, ticket)
            await uow.commit()
            return view

    async def assign(self, number: str, staff: str) -> TicketView:
        return await self._move(number, TicketStatus.ASSIGNED, f"staff:{staff}", staff)

    async def close(self, number: str, *, actor: str) -> TicketView:
        return await self._move(number, TicketStatus.CLOSED, actor)

    async def audit(
        self, actor: str, action: str, target_type: str, target_id: str, details: dict[str, Any] | None = None
    ) -> None:
        async with self._units.orm() as uow:
            uow.session.add(
                AuditEntry(
                    actor=actor[:96],
                    action=action[:64],
                    target_type=target_type[:32],
                    target_id=target_id[:64],
                    details=details or {},
                    at=uow.now(),
                )
            )
            await uow.commit()

    async def audit_trail(self, target_type: str, target_id: str) -> list[tuple[str, str, datetime]]:
        async with self._units.orm() as uow:
            rows = (
                await uow.session.scalars(
                    select(AuditEntry)
                    .where(AuditEntry.target_type == target_type, AuditEntry.target_id == target_id)
                    .order_by(AuditEntry.id)
                )
            ).all()
            return [(r.actor, r.action, r.at) for r in rows]
