"""Writing and reading the operator audit log (R7.1-3: who, what, on which object, when, from where).

Rows are added to the caller's unit of work, so an action and its audit row commit together or not at
all. Free-text parts are cut to their column sizes here, never by the database.
"""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce_core.errors import InvalidInput
from commerce_core.operators.model import OperatorAudit, OperatorUser
from commerce_core.operators.types import Actor, AuditEntryView, AuditFilter
from commerce_core.uow import UnitOfWork

MAX_AUDIT_PAGE = 500


def add_audit(
    uow: UnitOfWork,
    *,
    actor_id: str | None,
    actor_email: str | None,
    action: str,
    object_type: str,
    object_id: str | None = None,
    ip: str | None = None,
    detail: str | None = None,
) -> None:
    """Queue one audit row in ``uow`` (written with its commit)."""
    uow.session.add(
        OperatorAudit(
            at=uow.now(),
            actor_id=actor_id,
            actor_email=actor_email[:254] if actor_email else None,
            action=action[:64],
            object_type=object_type[:32],
            object_id=object_id[:64] if object_id else None,
            ip=ip[:45] if ip else None,
            detail=detail[:500] if detail else None,
        )
    )


async def add_actor_audit(
    uow: UnitOfWork,
    actor: Actor,
    *,
    action: str,
    object_type: str,
    object_id: str | None = None,
    detail: str | None = None,
) -> None:
    """Queue one audit row for an action an :class:`Actor` performed, in the action's own unit of work.

    Callers that hold only the actor (not its account row) share this so that the row always names the
    operator by e-mail as well as id (R7.1: an auditor reads who, not an opaque id); the system actor
    (no operator id) is written with neither. An id that names no account is still written down."""
    email = None
    if actor.operator_id:
        email = await uow.session.scalar(
            select(OperatorUser.email).where(OperatorUser.public_id == actor.operator_id)
        )
    add_audit(
        uow,
        actor_id=actor.operator_id[:16] if actor.operator_id else None,
        actor_email=email,
        action=action,
        object_type=object_type,
        object_id=object_id,
        ip=actor.ip,
        detail=detail,
    )


def _filtered(query: Select[OperatorAudit], wanted: AuditFilter) -> Select[OperatorAudit]:
    row = OperatorAudit
    if wanted.actor_email:
        query = query.where(row.actor_email == wanted.actor_email.strip().lower())
    if wanted.action:
        query = query.where(row.action == wanted.action)
    if wanted.object_type:
        query = query.where(row.object_type == wanted.object_type)
    if wanted.object_id:
        query = query.where(row.object_id == wanted.object_id)
    if wanted.since is not None:
        query = query.where(row.at >= wanted.since)
    if wanted.until is not None:
        query = query.where(row.at < wanted.until)
    return query


async def read_audit(
    session: AsyncSession, wanted: AuditFilter, *, limit: int, offset: int
) -> list[AuditEntryView]:
    """Newest first; ``limit`` 1..500 and ``offset`` >= 0, else ``invalid_page``."""
    if not 1 <= limit <= MAX_AUDIT_PAGE or offset < 0:
        raise InvalidInput("page out of range", code="invalid_page", maximum=MAX_AUDIT_PAGE)
    for moment in (wanted.since, wanted.until):
        if moment is not None and moment.tzinfo is None:
            raise InvalidInput("times must carry a time zone", code="invalid_time")
    query = _filtered(select(OperatorAudit), wanted)
    rows = await session.scalars(
        query.order_by(OperatorAudit.at.desc(), OperatorAudit.id.desc()).limit(limit).offset(offset)
    )
    return [
        AuditEntryView(
            id=r.id,
            at=r.at,
            actor_id=r.actor_id,
            actor_email=r.actor_email,
            action=r.action,
            object_type=r.object_type,
            object_id=r.object_id,
            ip=r.ip,
            detail=r.detail,
        )
        for r in rows
    ]
