"""The listing review queue (R4.3-2/3) for reviewers and admins: open items with the automated checks'
findings, one item with the proposed content beside the live one, and the decision.

Approve, or reject with a reason (required; the merchant reads it in the console and in a chat
notification through the outbox). Every decision is written to the audit log with the reason.
"""

from __future__ import annotations

from aiohttp import web

from bot.backoffice.pages import flash, redirect, render, text
from bot.backoffice.views.decisions import audit_decision, read_decision, reviewer
from bot.backoffice.views.listings import commerce
from commerce_core.api import DomainError, NotFound

ID_LIMIT = 19


def _item_id(request: web.Request) -> int:
    raw = request.match_info["item_id"]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > ID_LIMIT or int(raw) > 2**63 - 1:
        raise web.HTTPNotFound()
    return int(raw)


async def queue(request: web.Request) -> web.StreamResponse:
    items = await commerce(request).listing_reviews.queue(limit=200)
    return render(request, "listing_queue.html", items=items)


async def item(request: web.Request, *, error: str | None = None, status: int = 200) -> web.StreamResponse:
    shown = await commerce(request).listing_reviews.item(_item_id(request))
    try:
        live = await commerce(request).catalog.get_product(shown.product_code, live_only=False)
    except NotFound:
        live = None
    return render(request, "listing_review.html", status=status, item=shown, live=live, error=error)


async def decide(request: web.Request) -> web.StreamResponse:
    item_id = _item_id(request)
    decision = await read_decision(request)
    if decision is None:
        return await item(request, error=text(request, "listings.review.reason_required"), status=400)
    try:
        decided = await commerce(request).listing_reviews.decide(
            item_id, approve=decision.approve, actor=reviewer(request), reason=decision.reason
        )
    except DomainError as refused:
        if refused.code == "review_not_found":
            raise
        key = "listings.review.already" if refused.code == "review_decided" else "listings.error.other"
        return await item(request, error=text(request, key), status=400)
    await audit_decision(request, decision, "listing", decided.product_code, f"{decided.kind} #{decided.id}")
    flash(request, "listings.review.approved" if decision.approve else "listings.review.rejected")
    raise redirect(request, "listings.queue")
