"""After-sales cases in the merchant console: the cases on the signed-in merchant's own items, one
case, accepting a return within the policy, and the returns address (R5.4-1, R7.1-3).

Scoping is by the signed-in operator's ``merchant_id``, never by anything in the request: the core
answers "not found" for a case about another merchant's items, which the guard turns into the same
404 page as an unknown number, so nobody learns that it exists. A return outside the policy cannot be
accepted here: staff arbitrate it from their desk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from bot.backoffice.pages import field, flash, form, redirect, render, visit
from commerce_core.api import Actor, CaseView, DomainError

NUMBER_LIMIT = 32
ADDRESS_LIMIT = 300
#: refusals with their own explanation; anything else reads "desk.refused.other"
REFUSALS = frozenset({"case_decided", "outside_policy", "required", "too_long", "case_closed"})


class MerchantDesk(Protocol):
    """What the merchant pages need from the core (``commerce.case_parties``)."""

    async def for_merchant(self, merchant_id: int, *, limit: int = 100) -> list[CaseView]: ...
    async def merchant_case(self, merchant_id: int, number: str) -> CaseView: ...
    async def merchant_accept(
        self, merchant_id: int, number: str, actor: Actor, *, returns_address: str | None = None
    ) -> CaseView: ...
    async def set_returns_address(
        self, merchant_id: int, number: str, actor: Actor, *, address: str
    ) -> CaseView: ...


@dataclass(frozen=True, slots=True)
class MerchantCasePages:
    merchants: MerchantDesk


MERCHANT_CASES: web.AppKey[MerchantCasePages] = web.AppKey("backoffice.merchant_cases", MerchantCasePages)


def _desk(request: web.Request) -> MerchantDesk:
    if MERCHANT_CASES not in request.app:
        raise web.HTTPNotFound()
    return request.app[MERCHANT_CASES].merchants


def _merchant_id(request: web.Request) -> int:
    merchant_id = visit(request).me().merchant_id
    if merchant_id is None:  # a merchant role always has one; refuse rather than show anyone's case
        raise web.HTTPNotFound()
    return merchant_id


async def cases(request: web.Request) -> web.StreamResponse:
    listed = await _desk(request).for_merchant(_merchant_id(request))
    return render(request, "merchant_cases.html", cases=listed)


async def case(request: web.Request) -> web.StreamResponse:
    number = request.match_info["number"][:NUMBER_LIMIT]
    shown = await _desk(request).merchant_case(_merchant_id(request), number)
    return render(request, "merchant_case.html", case=shown)


async def act(request: web.Request) -> web.StreamResponse:
    """Accept (with the returns address) or just give the address; another merchant's case is 404."""
    merchant_id, desk = _merchant_id(request), _desk(request)
    number = request.match_info["number"][:NUMBER_LIMIT]
    shown = await desk.merchant_case(merchant_id, number)  # 404 unless it is about my items
    values = await form(request)
    address = field(values, "address", ADDRESS_LIMIT)
    actor = visit(request).actor
    action = request.match_info["action"]
    try:
        if action == "accept":
            await desk.merchant_accept(merchant_id, shown.number, actor, returns_address=address or None)
        else:
            await desk.set_returns_address(merchant_id, shown.number, actor, address=address)
    except DomainError as refused:
        if refused.code == "case_not_found":
            raise
        flash(request, f"desk.refused.{refused.code if refused.code in REFUSALS else 'other'}")
        raise redirect(request, "merchant.case", number=shown.number) from None
    flash(request, f"desk.done.merchant_{action}")
    raise redirect(request, "merchant.case", number=shown.number)
