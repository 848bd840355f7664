"""Search and browse, product details, recommendations ("popular", "more like this")."""

from __future__ import annotations

from typing import Any

from commerce_core.api import CURRENCY_EXPONENTS, NotFound, SearchPage, SearchQuery
from dialogs.context import Turn
from dialogs.flows import named, questions, reviews
from dialogs.flows import recommend as recommend_flow
from dialogs.flows.base import Flow, StepSpec
from dialogs.flows.common import focus_on, product_card, product_list, resolve_product
from dialogs.payloads import Human, Popular

FILTER_ENTITIES = (
    "price",
    "quantity",
    "ordinal",
    "color",
    "size",
    "order_number",
    "phone",
    "tracking_number",
)


def minor(value: float | int | None, currency: str = "CNY") -> int | None:
    if value is None:
        return None
    scale: int = 10 ** CURRENCY_EXPONENTS.get(currency, 2)
    return round(float(value) * scale)


def query_from(turn: Turn) -> dict[str, Any]:
    """Search words = the message minus prices, colours, sizes...; those become filters."""
    text = turn.nlu.text
    for entity in sorted(turn.nlu.entities, key=lambda e: e.start, reverse=True):
        if entity.type in FILTER_ENTITIES:
            text = text[: entity.start] + " " + text[entity.end :]
    facets: dict[str, str] = {}
    if (color := turn.entity("color")) is not None:
        facets["color"] = str(color)
    if (size := turn.entity("size")) is not None:
        facets["size"] = str(size).lower()
    price = turn.entity("price") or {}
    query: dict[str, Any] = {
        "text": text.strip(),
        "facets": facets,
        "page": 1,
        "price_min": minor(price.get("min")),
        "price_max": minor(price.get("max")),
    }
    if (brand := turn.entity("brand")) is not None:
        query["brand"] = str(brand)
    lowered = turn.nlu.text.lower()
    if any(w in lowered for w in ("便宜", "cheap", "lowest price", "低价")):
        query["sort"] = "price_asc"
    elif any(w in lowered for w in ("热销", "销量", "best sell", "popular", "畅销", "熱銷", "銷量")):
        query["sort"] = "sales"
    return query


async def run_search(turn: Turn, query: dict[str, Any], page: SearchPage | None = None) -> SearchPage | None:
    """Search (unless ``page`` is its result already) and show the page; None when nothing matched."""
    page = page or await search_page(turn, query)
    turn.state.last_search = query
    filters = {k: v for k, v in query.items() if k not in ("text", "page") and v not in (None, {}, "", ())}
    turn.note("search", query=str(query.get("text", "")), filters=filters, results=page.total)
    if page.total == 0:
        if query.get("facets") or query.get("price_min") is not None or query.get("price_max") is not None:
            turn.say("search.none_with_filters", turn.button("button.popular", Popular()))
        else:
            turn.say(
                "search.none", turn.button("button.popular", Popular()), turn.button("button.human", Human())
            )
        return None
    show_page(turn, page)
    return page


def show_page(turn: Turn, page: SearchPage) -> None:
    key = "search.results_relaxed" if page.relaxed else "search.results"
    turn.send(product_list(turn, page, key))
    if page.total == 1:
        turn.state.focus_product = page.items[0].code


async def search_page(turn: Turn, query: dict[str, Any]) -> SearchPage:
    search = SearchQuery(
        text=query.get("text", ""),
        facets=query.get("facets", {}),
        price_min=query.get("price_min"),
        price_max=query.get("price_max"),
        brand=query.get("brand"),
        sort=query.get("sort", "relevance"),
        page=query.get("page", 1),
        page_size=turn.settings.page_size,
        category=query.get("category"),
        exclude_codes=tuple(query.get("exclude", ())),
    )
    return await turn.commerce.catalog.search(search)


async def search(turn: Turn) -> None:
    if await named.answer(turn):
        return
    query = query_from(turn)
    nothing_asked = (
        not (query["text"] or query["facets"]) and query["price_max"] is None and query["price_min"] is None
    )
    if nothing_asked and turn.entity("category") is None and turn.entity("product") is None:
        turn.say("search.ask_what")
        turn.begin("search", "ask_what")
        return
    category = turn.entity("category")
    if category is not None and not turn.entity("product"):
        query["category"] = str(category)
        # the category word itself is already the filter; matching it as text again would be too strict
        query["text"] = named.words_beside(turn, "category", query["text"])
    page = await search_page(turn, query)
    if page.total == 0 and await named.unfiltered(turn, query):
        return
    await run_search(turn, query, page)


async def exact_words(turn: Turn) -> bool:
    """The classifier found no intent: if every word of a short message matches products, show them."""
    text = turn.nlu.text.strip()
    if not named.leftover(text) or len(text) > 60 or turn.nlu.entities:
        return False
    page = await search_page(turn, {"text": text, "facets": {}, "page": 1})
    if page.total == 0 or page.relaxed:
        return False
    turn.state.last_search = {"text": text, "facets": {}, "page": 1}
    show_page(turn, page)
    return True


async def ask_what(turn: Turn) -> None:
    turn.finish()
    await search(turn)


async def more(turn: Turn) -> None:
    if not turn.state.last_search:
        turn.say("search.nothing_to_page")
        return
    query = dict(turn.state.last_search)
    query["page"] = int(query.get("page", 1)) + 1
    await run_search(turn, query)


async def details(turn: Turn) -> None:
    product = await resolve_product(turn)
    if product is None:
        if turn.nlu.text.strip() and (turn.state.shown_products or turn.entity("ordinal") is None):
            await search(turn)
        else:
            turn.say("product.which")
        return
    turn.note("product_view", product=product.code, merchant_id=product.merchant_id)
    turn.send(product_card(turn, product, reviews=await reviews.review_lines(turn, product.code)))
    if questions.unanswered(turn):  # R4.1-4: a question the card does not answer goes to the seller
        await questions.offer(turn, product)


async def show(turn: Turn, code: str) -> None:
    if (product := await focus_on(turn, code)) is not None:
        turn.note("product_view", product=product.code, merchant_id=product.merchant_id)
        turn.send(product_card(turn, product, reviews=await reviews.review_lines(turn, product.code)))


async def recommend(turn: Turn) -> None:
    if await named.answer(turn):
        return
    focus = turn.state.focus_product
    category = turn.entity("category")
    if (
        focus
        and category is None
        and turn.state.looking_at == "card"
        and await similar(turn, focus, fallback=False)
    ):
        return
    if category is None and await recommend_flow.personal(turn):
        return
    page = await turn.commerce.catalog.popular(
        category=str(category) if category else None, limit=turn.settings.page_size
    )
    if not page.items:
        turn.say("search.none")
        return
    turn.send(product_list(turn, page, "recommend.popular"))


async def similar(turn: Turn, code: str, *, fallback: bool = True) -> bool:
    """ "More like this": the same category at a similar price. False when there is nothing to show."""
    try:
        page = await turn.commerce.catalog.similar(code, limit=turn.settings.page_size)
        base = await turn.commerce.catalog.get_product(code)
    except NotFound:
        turn.say("product.gone")
        return True
    if not page.items:
        if fallback:
            turn.say("recommend.none_similar")
        return False
    turn.send(product_list(turn, page, "recommend.similar", name=base.title(turn.lang)))
    return True


SEARCH = Flow("search", search, {"ask_what": StepSpec(ask_what, expects="product")})
