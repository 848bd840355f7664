"""One search box for staff (admins and agents): an order by its number, a shopper by an order number
or a phone number, an after-sales case by its number.

A phone number is never searched in plaintext: :meth:`Customers.find_by_phone` looks up its blind
index (an HMAC of the normalised number, see ``commerce_core.security``), so the database holds no
searchable phone column. What is shown is masked (name, phone, address), and every search that reveals
a shopper is written to the audit log (who looked up whom, from where), as is every search by phone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from aiohttp import web

from bot.backoffice.pages import operators, render, visit
from commerce_core.api import CaseView, Commerce, CustomerView, DomainError, OrderView

SEARCH: web.AppKey[ShopSearch] = web.AppKey("backoffice.search")
ORDER_NUMBER = re.compile(r"^SB[0-9A-Z]{4,30}$")
CASE_NUMBER = re.compile(r"^AS[0-9A-Z]{4,30}$")
PHONE_LIKE = re.compile(r"^\+?[0-9][0-9 -]{5,18}[0-9]$")
MAX_QUERY = 40


@dataclass(slots=True)
class Found:
    """What one query found (all empty: nothing)."""

    kind: str = "none"  # order | case | phone | none | unknown
    orders: list[OrderView] = field(default_factory=list)
    shoppers: list[CustomerView] = field(default_factory=list)
    cases: list[CaseView] = field(default_factory=list)


class ShopSearch:
    """The look-ups behind the search box, through the core's front door."""

    def __init__(self, commerce: Commerce) -> None:
        self.commerce = commerce

    async def find(self, query: str) -> Found:
        compact = query.strip().upper().replace(" ", "")
        if ORDER_NUMBER.match(compact):
            return await self._order(compact)
        if CASE_NUMBER.match(compact):
            return await self._case(compact)
        if PHONE_LIKE.match(query.strip()):
            return await self._phone(query.strip())
        return Found("unknown")

    async def _order(self, number: str) -> Found:
        try:
            order = await self.commerce.orders.get(number)
        except DomainError:
            return Found("order")
        return Found("order", [order], [await self.commerce.customers.get(order.customer_id)])

    async def _case(self, number: str) -> Found:
        try:
            case = await self.commerce.after_sales.get(number)
        except DomainError:
            return Found("case")
        found = await self._order(case.order_number)
        found.kind, found.cases = "case", [case]
        return found

    async def _phone(self, phone: str) -> Found:
        try:
            shopper = await self.commerce.customers.find_by_phone(phone)
        except DomainError:  # not a phone number after all
            return Found("phone")
        if shopper is None:
            return Found("phone")
        orders = await self.commerce.orders.for_customer(shopper.id, limit=20)
        cases = await self.commerce.after_sales.for_customer(shopper.id)
        return Found("phone", orders, [shopper], cases)


async def search(request: web.Request) -> web.StreamResponse:
    query = request.query.get("q", "")[:MAX_QUERY]
    found = Found()
    if query.strip():
        found = await request.config_dict[SEARCH].find(query)
        actor = visit(request).actor
        for shopper in found.shoppers:  # who looked whom up is on record
            await operators(request).record(actor, "search", "customer", shopper.public_id, detail=found.kind)
        if found.kind == "phone" and not found.shoppers:
            await operators(request).record(actor, "search", "customer", None, detail="phone, no match")
    return render(request, "search.html", query=query, found=found)
