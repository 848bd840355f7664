"""The reviewers' side of onboarding (R4.2-2) and of violations (R4.2-3): the queue of applications,
one application with its files, approve or reject with reasons and suggestions; the merchants list
with freeze and unfreeze (a reason required to freeze; every action audited by the core).

After a freeze or unfreeze every process is told (``catalogue_changed``: a Redis version key that
each process checks), so the chat's product matching drops or regains the merchant's products too.
"""

from __future__ import annotations

from aiohttp import web

from bot.backoffice.pages import field, flash, form, redirect, render, visit
from bot.backoffice.views.decisions import read_decision
from bot.backoffice.views.onboarding import ID_LIMIT, desk, explain
from commerce_core.api import InvalidInput

CODE_LIMIT = 64


async def queue(request: web.Request) -> web.StreamResponse:
    waiting = await desk(request).commerce.onboarding.queue(visit(request).actor)
    return render(request, "onboarding_queue.html", applications=waiting)


async def application(
    request: web.Request, *, error: str | None = None, status: int = 200
) -> web.StreamResponse:
    public_id = request.match_info["public_id"][:ID_LIMIT]
    shown = await desk(request).commerce.onboarding.get(public_id, visit(request).actor)
    return render(request, "onboarding_review.html", status=status, application=shown, error=error)


async def decide(request: web.Request) -> web.StreamResponse:
    public_id = request.match_info["public_id"][:ID_LIMIT]
    onboarding = desk(request).commerce.onboarding
    actor = visit(request).actor
    # the core requires the reasons itself (and audits the decision), with its own explanation
    decision = await read_decision(
        request, reason_field="reasons", extra=("suggestions",), reason_required=False
    )
    assert decision is not None
    try:
        if decision.approve:
            await onboarding.approve(public_id, actor)
        else:
            await onboarding.reject(public_id, decision.reason or "", decision.extra["suggestions"], actor)
        flash(request, f"onboarding.review.{'approved' if decision.approve else 'rejected'}")
    except InvalidInput as refused:
        return await application(request, error=explain(request, refused), status=400)
    raise redirect(request, "reviews.queue")


async def merchants(
    request: web.Request, *, error: str | None = None, status: int = 200
) -> web.StreamResponse:
    listed = await desk(request).commerce.merchants.list_merchants(visit(request).actor)
    return render(request, "onboarding_merchants.html", status=status, merchants=listed, error=error)


async def freeze(request: web.Request) -> web.StreamResponse:
    """Freeze or unfreeze: the listings go off (or back on) sale everywhere at once."""
    code = request.match_info["code"][:CODE_LIMIT]
    values = await form(request)
    reason = field(values, "reason", 500)
    service = desk(request).commerce.merchants
    try:
        if request.match_info["action"] == "freeze":
            await service.freeze(code, reason, visit(request).actor)
        else:
            await service.unfreeze(code, reason, visit(request).actor)
    except InvalidInput as refused:
        return await merchants(request, error=explain(request, refused), status=400)
    await desk(request).catalogue_changed()
    flash(request, f"onboarding.merchants.{request.match_info['action']}_done")
    raise redirect(request, "reviews.merchants")
