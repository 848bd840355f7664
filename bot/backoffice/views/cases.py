"""The after-sales desk in the back office (agents and admins): the case queue with the 24-hour
first-response clock, one case, and what staff do with it (R5.4-1, R7.1-3).

Staff decide by the policy and arbitrate: accept or reject with a reason, ask for more information
or photos, refund in full or in part, record the variant of an exchange, mark the return received,
move a repair on, close. The core checks the status machine, writes the audit row with the action and
tells the shopper through the outbox; this module only reads forms and shows refusals in the staff
member's language. Overdue cases are flagged on the queue page (and alert the staff queue and the
admins from the periodic job, see ``commerce_core.after_sales.parties``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from aiohttp import web

from bot.backoffice.pages import field, flash, form, now, redirect, render, visit
from commerce_core.api import (
    CURRENCY_EXPONENTS,
    REPAIR_STAGES,
    Actor,
    CaseView,
    DomainError,
    InvalidInput,
    Money,
    NotFound,
)

NUMBER_LIMIT = 32
NOTE_LIMIT = 500
_AMOUNT = re.compile(r"(\d{1,9})(?:[.,](\d{1,3}))?")


class StaffDesk(Protocol):
    """What the page needs from the core's desk (``commerce.cases``)."""

    async def queue(self, *, include_closed: bool = False, limit: int = 200) -> list[CaseView]: ...
    async def case(self, number: str) -> CaseView: ...
    async def variants(self, number: str) -> list[tuple[str, dict[str, str]]]: ...
    async def accept(self, number: str, actor: Actor, *, note: str | None = None) -> CaseView: ...
    async def reject(self, number: str, actor: Actor, *, reason: str) -> CaseView: ...
    async def ask_info(self, number: str, actor: Actor, *, question: str) -> CaseView: ...
    async def refund(self, number: str, actor: Actor, *, amount: int | None = None) -> CaseView: ...
    async def exchange(self, number: str, actor: Actor, *, sku_code: str) -> CaseView: ...
    async def receive_return(self, number: str, actor: Actor) -> CaseView: ...
    async def repair(self, number: str, actor: Actor, *, stage: str) -> CaseView: ...
    async def close(self, number: str, actor: Actor, *, note: str | None = None) -> CaseView: ...


@dataclass(frozen=True, slots=True)
class CaseDeskPages:
    staff: StaffDesk


CASE_DESK: web.AppKey[CaseDeskPages] = web.AppKey("backoffice.case_desk", CaseDeskPages)


def case_desk(request: web.Request) -> StaffDesk:
    if CASE_DESK not in request.app:  # a back office built without the desk (tests of other pages)
        raise web.HTTPNotFound()
    return request.app[CASE_DESK].staff


def clock_of(case: CaseView, moment: datetime) -> dict[str, Any]:
    """The first-response clock as staff read it: minutes left, or minutes overdue; None once answered."""
    if case.first_responded_at is not None or not case.is_open:
        return {"answered": case.first_responded_at is not None, "left": None, "overdue": None}
    seconds = int((case.first_response_due_at - moment).total_seconds())
    if seconds > 0:
        return {"answered": False, "left": seconds // 60, "overdue": None}
    return {"answered": False, "left": None, "overdue": -seconds // 60}


def _number(request: web.Request) -> str:
    return request.match_info["number"][:NUMBER_LIMIT]


async def queue(request: web.Request) -> web.StreamResponse:
    include_closed = request.query.get("all") == "1"
    cases = await case_desk(request).queue(include_closed=include_closed)
    moment = now(request)
    clocks = {c.number: clock_of(c, moment) for c in cases}
    overdue = [c for c in cases if clocks[c.number]["overdue"] is not None]
    return render(
        request, "cases.html", cases=cases, clocks=clocks, overdue=overdue, include_closed=include_closed
    )


async def detail(request: web.Request) -> web.StreamResponse:
    desk = case_desk(request)
    case = await desk.case(_number(request))
    variants = await desk.variants(case.number) if case.kind == "exchange" else []
    done = [p for p in REPAIR_STAGES if case.repair_stage and REPAIR_STAGES.index(p) <= _stage(case)]
    stages = [s.value for s in REPAIR_STAGES if s not in done]
    return render(
        request,
        "case.html",
        case=case,
        clock=clock_of(case, now(request)),
        variants=variants,
        stages=stages,
        money=lambda amount: Money(amount, case.currency).format(),
    )


def _stage(case: CaseView) -> int:
    return [s.value for s in REPAIR_STAGES].index(case.repair_stage) if case.repair_stage else -1


def parse_amount_field(raw: str, currency: str) -> int | None:
    """``12.5`` -> 1250 (for a currency with cents); empty -> None (a full refund); junk -> InvalidInput."""
    if not raw:
        return None
    match = _AMOUNT.fullmatch(raw)
    exponent = int(CURRENCY_EXPONENTS.get(currency, 2))
    if match is None or len(match.group(2) or "") > exponent:
        raise InvalidInput("an amount like 12.50", code="invalid_amount")
    minor = (match.group(2) or "").ljust(exponent, "0")
    return int(match.group(1) + minor)  # the minor digits padded to the currency's exponent


async def act(request: web.Request) -> web.StreamResponse:
    """One of the case's buttons; the route's ``{action}`` picks which. Refusals show on the page."""
    desk, action = case_desk(request), request.match_info["action"]
    case = await desk.case(_number(request))  # an unknown case is a 404 whatever the action
    values = await form(request)
    actor = visit(request).actor
    note = field(values, "note", NOTE_LIMIT)
    try:
        if action == "accept":
            await desk.accept(case.number, actor, note=note or None)
        elif action == "reject":
            await desk.reject(case.number, actor, reason=note)
        elif action == "ask":
            await desk.ask_info(case.number, actor, question=note)
        elif action == "refund":
            amount = parse_amount_field(field(values, "amount", 16), case.currency)
            await desk.refund(case.number, actor, amount=amount)
        elif action == "exchange":
            await desk.exchange(case.number, actor, sku_code=field(values, "sku", 64))
        elif action == "received":
            await desk.receive_return(case.number, actor)
        elif action == "repair":
            await desk.repair(case.number, actor, stage=field(values, "stage", 16))
        else:
            await desk.close(case.number, actor, note=note or None)
    except NotFound as missing:
        if missing.code == "case_not_found":
            raise
        flash(request, "desk.refused.variant_not_found")
        raise redirect(request, "case", number=case.number) from None
    except DomainError as refused:
        flash(request, f"desk.refused.{refused.code if refused.code in REFUSALS else 'other'}")
        raise redirect(request, "case", number=case.number) from None
    flash(request, f"desk.done.{action}")
    raise redirect(request, "case", number=case.number)


#: refusals with their own explanation on the page; any other reads "desk.refused.other"
REFUSALS = frozenset(
    {
        "case_decided",
        "case_not_accepted",
        "case_not_closable",
        "quality_always_accepted",
        "refund_too_large",
        "invalid_amount",
        "nothing_paid",
        "not_an_exchange",
        "not_a_repair",
        "stage_passed",
        "invalid_stage",
        "return_received",
        "replacement_shipped",
        "required",
        "too_long",
        "illegal_transition",
    }
)
