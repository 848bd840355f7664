"""A message that names something in the catalogue gets that thing (R5.2-1).

Why: a shopper who types a product's name expects that product, not a page of loosely related ones;
one who types a synonym shared by several ("充电宝") expects them listed with the one they named among
them. Words inside a name that look like filters ("咖啡" in "手冲咖啡壶" is also a colour, "两片装" a
quantity) must not turn a plain name into a search that finds nothing.
"""

from __future__ import annotations

import re
from typing import Any

from commerce_core.api import NotFound, SearchQuery
from dialogs.context import Turn
from dialogs.flows import reviews
from dialogs.flows.common import product_card, product_list

_FILLER = re.compile(
    r"(?:i want|i need|looking for|show me|do you have|have you got|any|some|the|a|an|please|pls|"
    r"我要|我想要|我想买|想买|有没有|有沒有|有吗|有嗎|看看|来个|來個|请问|請問|的|吗|嗎|呢|吧|"
    r"[\s\W_])+",
    re.IGNORECASE,
)


def _span(turn: Turn, kind: str) -> tuple[int, int] | None:
    entity = turn.nlu.entity(kind)
    return (entity.start, entity.end) if entity else None


def leftover(text: str) -> str:
    """What a message says besides filler and punctuation."""
    return _FILLER.sub("", text)


def words_beside(turn: Turn, kind: str, query_text: str) -> str:
    """The query words other than the ``kind`` match (empty when only filler is left)."""
    span = _span(turn, kind)
    if span is None:
        return ""
    words = query_text
    matched = turn.nlu.text[span[0] : span[1]]
    words = words.replace(matched, " ")
    return words.strip() if len(leftover(words)) > 1 else ""


def _only_names(turn: Turn, kind: str) -> bool:
    span = _span(turn, kind)
    if span is None:
        return False
    text = turn.nlu.text
    return len(leftover(text[: span[0]] + " " + text[span[1] :])) <= 1


async def answer(turn: Turn) -> bool:
    """A message that is just a product's name or synonym: its card, or a list it leads.

    True when answered. A full name opens the card; a synonym searches its words and shows the list if
    the named product is on the first page, otherwise the card of the product named.
    """
    if not _only_names(turn, "product"):
        return False
    code = str(turn.entity("product"))
    try:
        product = await turn.commerce.catalog.get_product(code)
    except NotFound:
        return False
    said = turn.nlu.text.strip().casefold()
    if said not in {name.strip().casefold() for name in product.name.values()}:
        query: dict[str, Any] = {"text": turn.nlu.text.strip(), "facets": {}, "page": 1}
        page = await turn.commerce.catalog.search(
            SearchQuery(text=query["text"], page_size=turn.settings.page_size)
        )
        if any(item.code == product.code for item in page.items):
            turn.state.last_search = query
            turn.send(
                product_list(turn, page, "search.results_relaxed" if page.relaxed else "search.results")
            )
            return True
    turn.state.focus_product = product.code
    turn.send(product_card(turn, product, reviews=await reviews.review_lines(turn, product.code)))
    return True


async def unfiltered(turn: Turn, query: dict[str, Any]) -> bool:
    """Nothing matched the words plus the filters read from them: search the words as written.

    "手冲咖啡壶套装" reads "咖啡" as a colour; the name itself still finds the product. True when this
    found (and showed) something.
    """
    if not (query.get("facets") or query.get("price_min") is not None or query.get("price_max") is not None):
        return False
    text = turn.nlu.text.strip()
    if not leftover(text) or text == query.get("text"):
        return False
    page = await turn.commerce.catalog.search(
        SearchQuery(text=text, category=query.get("category"), page_size=turn.settings.page_size)
    )
    if page.total == 0:
        return False
    turn.state.last_search = {"text": text, "facets": {}, "page": 1, "category": query.get("category")}
    turn.send(product_list(turn, page, "search.results_relaxed" if page.relaxed else "search.results"))
    return True
