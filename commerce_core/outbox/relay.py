"""Deliver outbox messages to a handler, at least once, with back-off on failure.

Rows are claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so several workers can relay in
parallel; a message is marked sent only after its handler returned, so a crash means a retry, never a
loss. Handlers must therefore be idempotent (notification senders de-duplicate by outbox id).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from commerce_core.clock import Clock
from commerce_core.outbox.model import OutboxMessage


@dataclass(frozen=True, slots=True)
class OutboxEnvelope:
    id: int
    event_type: str
    payload: dict[str, Any]
    attempts: int


Handler = Callable[[OutboxEnvelope], Awaitable[None]]
MAX_BACKOFF = timedelta(minutes=30)


async def relay_once(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, handler: Handler, *, batch: int = 100
) -> int:
    """Relay one batch of due messages; return how many were delivered."""
    delivered = 0
    async with sessions() as session, session.begin():
        now = clock.now()
        stmt = (
            select(OutboxMessage)
            .where(OutboxMessage.sent_at.is_(None), OutboxMessage.available_at <= now)
            .order_by(OutboxMessage.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
        for message in (await session.scalars(stmt)).all():
            envelope = OutboxEnvelope(message.id, message.event_type, dict(message.payload), message.attempts)
            try:
                await handler(envelope)
            except Exception as exc:  # noqa: BLE001 - any handler failure is retried later
                message.attempts += 1
                message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                backoff = min(timedelta(seconds=2 ** min(message.attempts, 12)), MAX_BACKOFF)
                message.available_at = now + backoff
            else:
                message.sent_at = now
                delivered += 1
    return delivered


async def pending_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    from sqlalchemy import func

    async with sessions() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
            )
            or 0
        )
