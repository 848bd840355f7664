"""Raising, reading and acknowledging alerts.

Raising is idempotent across processes: the alert's ``dedup_key`` (rule, subject, window) is unique,
so the second process to evaluate the same facts meets the constraint and raises nothing. An alert is
inserted together with its :class:`~commerce_core.events.AlertRaised` event, so the staff group hears
of every alert through the outbox (retried until posted) and of none that was not stored.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from commerce_core.alerts.model import Alert
from commerce_core.alerts.types import AlertFilter, AlertRule, AlertState, AlertView
from commerce_core.errors import InvalidInput, NotFound
from commerce_core.events import AlertRaised
from commerce_core.ids import new_public_id, public_id_pattern
from commerce_core.operators.audit import add_actor_audit
from commerce_core.operators.types import Actor
from commerce_core.uow import Units
from commerce_core.validation import clean_text

ALERT_PREFIX = "AL"
ALERT_ID = public_id_pattern(ALERT_PREFIX)
MAX_PAGE = 500


def window_key(rule: AlertRule, subject: str, now: datetime, window: timedelta | None) -> str:
    """``rule:subject`` plus the index of the window ``now`` falls in (none: once per subject ever)."""
    if window is None:
        return f"{rule.value}:{subject}"
    bucket = int(now.timestamp() // window.total_seconds())
    return f"{rule.value}:{subject}:{bucket}"


def _view(row: Alert) -> AlertView:
    return AlertView(
        public_id=row.public_id,
        rule=AlertRule(row.rule),
        subject=row.subject,
        details=dict(row.details),
        raised_at=row.raised_at,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
        note=row.note,
    )


async def raise_alert(
    units: Units,
    rule: AlertRule,
    subject: str,
    details: dict[str, Any],
    *,
    window: timedelta | None = None,
) -> AlertView | None:
    """Store an alert unless this rule already alerted on ``subject`` within ``window`` (or ever, with
    no window); returns the new alert, or None when it was a repeat."""
    async with units.orm() as uow:
        now = uow.now()
        key = window_key(rule, subject, now, window)
        recent = select(Alert.id).where(Alert.rule == rule.value, Alert.subject == subject)
        if window is not None:  # a burst straddling two windows is still one alert
            recent = recent.where(Alert.raised_at >= now - window)
        else:
            recent = recent.where(Alert.dedup_key == key)
        if await uow.session.scalar(recent.limit(1)) is not None:
            return None
        row = Alert(
            public_id=new_public_id(ALERT_PREFIX),
            rule=rule.value,
            subject=subject[:96],
            dedup_key=key[:200],
            details=details,
            raised_at=now,
        )
        uow.session.add(row)
        uow.emit(AlertRaised(row.public_id, rule.value, row.subject))
        try:
            await uow.commit()
        except IntegrityError:
            return None  # another process (or a retry) raised it first
        return _view(row)


def _filtered(query: Select[Any], wanted: AlertFilter) -> Select[Any]:
    if wanted.rule is not None:
        query = query.where(Alert.rule == wanted.rule.value)
    if wanted.state is AlertState.OPEN:
        query = query.where(Alert.acknowledged_at.is_(None))
    elif wanted.state is AlertState.ACKNOWLEDGED:
        query = query.where(Alert.acknowledged_at.is_not(None))
    for moment in (wanted.since, wanted.until):
        if moment is not None and moment.tzinfo is None:
            raise InvalidInput("times must carry a time zone", code="invalid_time")
    if wanted.since is not None:
        query = query.where(Alert.raised_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(Alert.raised_at < wanted.until)
    return query


async def list_alerts(units: Units, wanted: AlertFilter, *, limit: int, offset: int) -> list[AlertView]:
    """Newest first; ``limit`` 1..500 and ``offset`` >= 0, else ``invalid_page``."""
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidInput("page out of range", code="invalid_page", maximum=MAX_PAGE)
    query = _filtered(select(Alert), wanted).order_by(Alert.raised_at.desc(), Alert.id.desc())
    async with units.orm() as uow:
        rows = (await uow.session.scalars(query.limit(limit).offset(offset))).all()
        return [_view(row) for row in rows]


async def get_alert(units: Units, public_id: str) -> AlertView:
    if not isinstance(public_id, str) or not ALERT_ID.match(public_id):
        raise NotFound("no such alert", code="alert_not_found")
    async with units.orm() as uow:
        row = await uow.session.scalar(select(Alert).where(Alert.public_id == public_id))
        if row is None:
            raise NotFound("no such alert", code="alert_not_found")
        return _view(row)


async def acknowledge(units: Units, public_id: str, actor: Actor, note: str | None = None) -> AlertView:
    """Staff saw the alert and dealt with it; written to the operator audit log in the same unit.
    A second acknowledgement is refused (``already_acknowledged``): the first one's author stays."""
    if not isinstance(public_id, str) or not ALERT_ID.match(public_id):
        raise NotFound("no such alert", code="alert_not_found")
    note = clean_text(note, "note", max_length=500, required=False) or None
    async with units.orm() as uow:
        row = await uow.session.scalar(select(Alert).where(Alert.public_id == public_id).with_for_update())
        if row is None:
            raise NotFound("no such alert", code="alert_not_found")
        if row.acknowledged_at is not None:
            raise InvalidInput("the alert was already acknowledged", code="already_acknowledged")
        row.acknowledged_at = uow.now()
        row.acknowledged_by = actor.operator_id[:16] if actor.operator_id else None
        row.note = note
        await add_actor_audit(
            uow,
            actor,
            action="alert.acknowledge",
            object_type="alert",
            object_id=row.public_id,
            detail=f"{row.rule} {row.subject}" + (f": {note}" if note else ""),
        )
        await uow.commit()
        return _view(row)
