"""Personal recommendations with a reason per item (R5.3-2): from this shopper's own orders and views.

Why: "what do you recommend?" answered with the same best-seller list for everyone is noise; saying
why each item is there ("similar to the dress you viewed", "goes with what you bought", "popular in
headphones") lets the shopper judge it. Views are the products this conversation opened (kept in the
conversation state, newest last); orders come from the shopper's own order list.
"""

from __future__ import annotations

from commerce_core.api import NotFound, ProductSummary, SearchPage, pick_language
from dialogs.context import Turn
from dialogs.flows.common import price_range
from dialogs.messages import Button, ProductList, ProductListItem
from dialogs.payloads import ShowProduct


async def _bought(turn: Turn) -> list[tuple[str, str]]:
    """(product code, title) of what this shopper ordered most recently."""
    if not turn.has_customer:
        return []
    found: list[tuple[str, str]] = []
    for order in await turn.commerce.orders.for_customer(turn.customer_id, limit=3):
        for line in order.lines:
            try:
                listing = await turn.commerce.catalog.sku(line.sku_code)
            except NotFound:
                continue
            if listing.product_code not in (code for code, _ in found):
                found.append((listing.product_code, pick_language(line.name, turn.lang)))
    return found[:2]


async def _viewed(turn: Turn) -> list[tuple[str, str]]:
    found = []
    for code in reversed(turn.state.viewed[-2:]):
        try:
            found.append((code, (await turn.commerce.catalog.get_product(code)).title(turn.lang)))
        except NotFound:
            continue
    return found


async def personal(turn: Turn) -> bool:
    """A list where every item says why it is there; False when there is nothing to recommend."""
    size = turn.settings.page_size
    picked: list[tuple[ProductSummary, str]] = []
    bought = await _bought(turn)
    seen = {code for code, _ in bought} | set(turn.state.viewed)

    def take(page: SearchPage, reason: str) -> None:
        for item in page.items:
            if len(picked) < size and item.code not in seen:
                seen.add(item.code)
                picked.append((item, reason))

    for code, title in bought:
        take(
            await turn.commerce.catalog.similar(code, limit=2), turn.t("recommend.reason_bought", name=title)
        )
    for code, title in await _viewed(turn):
        take(
            await turn.commerce.catalog.similar(code, limit=2), turn.t("recommend.reason_viewed", name=title)
        )
    if len(picked) < size:
        names = {c.code: pick_language(c.names, turn.lang) for c in await turn.commerce.catalog.categories()}
        for item in (await turn.commerce.catalog.popular(limit=size * 2, exclude=tuple(seen))).items:
            category = names.get(item.category_code, item.category_code)
            take(SearchPage((item,), 1, 1, 1), turn.t("recommend.reason_popular", category=category))
    if not picked:
        return False
    items = tuple(
        ProductListItem(n, p.code, p.title(turn.lang), price_range(p), p.image, p.available, reason)
        for n, (p, reason) in enumerate(picked, start=1)
    )
    buttons = [b for i in items for b in Button.offer(f"{i.position}. {i.title[:18]}", ShowProduct(i.code))]
    turn.state.shown_products = [i.code for i in items]
    turn.state.reasons = {i.code: i.reason for i in items if i.reason}
    turn.state.looking_at = "list"
    turn.send(ProductList(turn.t("recommend.for_you"), items, 1, False, len(items), tuple(buttons)))
    return True
