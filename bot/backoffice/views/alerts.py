"""Anomaly alerts and fake-order signals for platform staff (admins and agents; R3.4-2, R4.1-6): the
list with filters (rule, open or acknowledged, a date range) and acknowledging one, which the core
writes to the operator audit log with the note. Merchants never reach this page (the route's action
is staff-only), and an alert holds only masked contacts, so nothing here needs further scoping."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from aiohttp import web

from bot.alerts.describe import summary
from bot.backoffice.pages import field, flash, form, redirect, render, text, visit
from bot.backoffice.views.listings import commerce
from commerce_core.api import AlertFilter, AlertRule, AlertState, DomainError

PAGE = 200


def _day(raw: str) -> date | None:
    return date.fromisoformat(raw) if raw else None


def _filter(query: dict[str, str]) -> AlertFilter:
    """The query string as a filter; anything unreadable raises ValueError (a 400 for the visitor)."""
    rule, state = query.get("rule", ""), query.get("state", "")
    since, until = _day(query.get("since", "")[:10]), _day(query.get("until", "")[:10])
    return AlertFilter(
        rule=AlertRule(rule) if rule else None,
        state=AlertState(state) if state else None,
        since=datetime.combine(since, time(), UTC) if since else None,
        until=datetime.combine(until, time(), UTC) if until else None,
    )


async def alerts(request: web.Request, *, error: str | None = None, status: int = 200) -> web.StreamResponse:
    query = {key: request.query.get(key, "").strip() for key in ("rule", "state", "since", "until")}
    try:
        wanted = _filter(query)
    except ValueError:
        wanted, status, error = AlertFilter(), 400, text(request, "alerts.bad_filter")
        query = {key: "" for key in query}
    found = await commerce(request).alerts.find(wanted, limit=PAGE)

    def t(key: str, **params: object) -> str:
        return text(request, key, **params)

    rows = [(alert, summary(alert, t)) for alert in found]
    return render(
        request,
        "alerts.html",
        status=status,
        rows=rows,
        rules=[rule.value for rule in AlertRule],
        states=[state.value for state in AlertState],
        query=query,
        error=error,
    )


async def acknowledge(request: web.Request) -> web.StreamResponse:
    public_id = request.match_info["public_id"]
    values = await form(request)
    note = field(values, "note", 500) or None
    try:
        await commerce(request).alerts.acknowledge(public_id, visit(request).actor, note)
    except DomainError as refused:
        if refused.code == "alert_not_found":
            raise web.HTTPNotFound() from refused
        return await alerts(request, error=text(request, "alerts.already"), status=409)
    flash(request, "alerts.acknowledged")
    raise redirect(request, "alerts")
