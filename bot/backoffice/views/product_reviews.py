"""Review moderation (R5.3-1) for reviewers and admins: shoppers' product reviews the automated checks
held (absolute claims, contact details, abuse), each with its findings, and the decision.

Approve publishes the review (its stars count and its comment shows on the product card); reject
keeps it hidden and needs a reason. Every decision is written to the audit log with the reason.
"""

from __future__ import annotations

from aiohttp import web

from bot.backoffice.pages import field, flash, form, operators, redirect, render, text, visit
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
    approve = request.match_info["decision"] == "approve"
    values = await form(request)
    reason = field(values, "reason", 1000) or None
    if not approve and reason is None:
        return await queue(request, error=text(request, "reviews.reason_required"), status=400)
    me = visit(request).me()
    try:
        decided = await commerce(request).product_reviews.decide(
            review_id, approve=approve, actor=f"operator:{me.public_id}", reason=reason
        )
    except DomainError as refused:
        if refused.code == "product_review_not_found":
            raise web.HTTPNotFound() from refused
        return await queue(request, error=text(request, "reviews.already"), status=400)
    action = "product_review.approve" if approve else "product_review.reject"
    detail = f"{decided.product_code}" + (f": {reason}" if reason else "")
    await operators(request).record(visit(request).actor, action, "product_review", str(decided.id), detail)
    flash(request, "reviews.approved" if approve else "reviews.rejected")
    raise redirect(request, "product_reviews.queue")
