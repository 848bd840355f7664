"""Review moderation (R5.3-1) for reviewers and admins: shoppers' product reviews the automated checks
held (absolute claims, contact details, abuse), each with its findings, and the decision.

Approve publishes the review (its stars count and its comment shows on the product card); reject
keeps it hidden and needs a reason. Every decision is written to the audit log with the reason.
"""

from __future__ import annotations

from aiohttp import web

from bot.backoffice.pages import flash, redirect, render, text
from bot.backoffice.views.decisions import audit_decision, read_decision, reviewer
from bot.backoffice.views.listings import commerce
from commerce_core.api import DomainError

ID_LIMIT = 19


def _review_id(request: web.Request) -> int:
    raw = request.match_info["review_id"]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > ID_LIMIT or int(raw) > 2**63 - 1:
        raise web.HTTPNotFound()
    return int(raw)


async def queue(request: web.Request, *, error: str | None = None, status: int = 200) -> web.StreamResponse:
    held = await commerce(request).product_reviews.held(limit=200)
    return render(request, "product_reviews.html", status=status, reviews=held, error=error)


async def decide(request: web.Request) -> web.StreamResponse:
    review_id = _review_id(request)
    decision = await read_decision(request)
    if decision is None:
        return await queue(request, error=text(request, "reviews.reason_required"), status=400)
    try:
        decided = await commerce(request).product_reviews.decide(
            review_id, approve=decision.approve, actor=reviewer(request), reason=decision.reason
        )
    except DomainError as refused:
        if refused.code == "product_review_not_found":
            raise web.HTTPNotFound() from refused
        return await queue(request, error=text(request, "reviews.already"), status=400)
    await audit_decision(request, decision, "product_review", str(decided.id), decided.product_code)
    flash(request, "reviews.approved" if decision.approve else "reviews.rejected")
    raise redirect(request, "product_reviews.queue")
