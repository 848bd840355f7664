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

from sqlalchemy import select, update
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
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    handler: Handler,
    *,
    batch: int = 100,
    lease: timedelta = timedelta(seconds=60),
) -> int:
    """Relay one batch of due messages; return how many were delivered.

    Messages are claimed in a short transaction (their ``available_at`` moves a lease ahead, so no
    other relay takes them), handled with no transaction open (a handler may itself use the
    database), then marked sent. A crash between the two leaves them to be retried after the lease.
    """
    async with sessions() as session, session.begin():
        now = clock.now()
        stmt = (
            select(OutboxMessage)
            .where(OutboxMessage.sent_at.is_(None), OutboxMessage.available_at <= now)
            .order_by(OutboxMessage.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
        claimed = []
        for message in (await session.scalars(stmt)).all():
            message.available_at = now + lease
            claimed.append(
                OutboxEnvelope(message.id, message.event_type, dict(message.payload), message.attempts)
            )
    if not claimed:
        return 0
    delivered: list[int] = []
    failed: dict[int, str] = {}
    for envelope in claimed:
        try:
            await handler(envelope)
        except Exception as exc:  # noqa: BLE001 - any handler failure is retried later
            failed[envelope.id] = f"{type(exc).__name__}: {exc}"[:2000]
        else:
            delivered.append(envelope.id)
    async with sessions() as session, session.begin():
        now = clock.now()
        if delivered:
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id.in_(delivered)).values(sent_at=now)
            )
        for message_id, error in failed.items():
            attempts = next(e.attempts for e in claimed if e.id == message_id) + 1
            backoff = min(timedelta(seconds=2 ** min(attempts, 12)), MAX_BACKOFF)
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(attempts=attempts, last_error=error, available_at=now + backoff)
            )
    return len(delivered)


async def pending_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    from sqlalchemy import func

    async with sessions() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
            )
            or 0
        )
