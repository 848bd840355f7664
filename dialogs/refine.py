"""Refinements of what the shopper was just shown (R5.2-3): the last list or the product in focus.

"cheaper ones?", "blue ones instead", "不要红色了，换成蓝色的", "under 200", "sort by price", "下一页",
"第二个" and "do you have it in red size M" all speak about something already on screen. The classifier
sees none of that context, so these are recognised here, before the intent is dispatched, and only when
there is something to refine and no word points elsewhere (a cart, an order).
"""

from __future__ import annotations

import re
from typing import Any

from commerce_core.api import NotFound, ProductView, SearchPage, SearchQuery
from dialogs.context import Turn
from dialogs.flows import shopping
from dialogs.flows.common import option_label, product_list
from dialogs.payloads import AddSku, ShowProduct
from dialogs.routing import has_catalogue_match, has_evidence


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


NEXT = _re(
    r"^\s*(?:(?:show |see )?(?:the )?next(?: page| ones| \d+)?|more(?: please| results| of (?:these|them))?|"
    r"show more|下一页|下一頁|下页|下頁|翻页|翻頁|再来几个|再來幾個|还有吗|還有嗎|更多)\s*[!！。.?？]*\s*$"
)
PREVIOUS = _re(
    r"^\s*(?:(?:go )?back a page|previous(?: page)?|prev|"
    r"上一页|上一頁|前一页|前一頁|上页|上頁)\s*[!！。.?？]*\s*$"
)
CHEAPER = _re(
    r"cheaper|less expensive|lower price|more affordable|budget|便宜|实惠|實惠|低价|低價|"
    r"价格低|價格低|省钱|省錢"
)
DEARER = _re(
    r"dearer|pricier|more expensive|higher[- ]end|premium|fancier|"
    r"贵一?[点點些]|更贵|更貴|貴一?[点點些]|高端|高档|高檔|好一?[点點]的"
)
SORT_PRICE_DOWN = _re(
    r"(?:price|prices) (?:high to low|descending)|most expensive first|"
    r"从高到低|從高到低|价格降序|價格降序"
)
SORT_PRICE = _re(
    r"sort(?:ed)? by price|order by price|cheapest first|lowest price first|price low to high|"
    r"按价格|按價格|价格排序|價格排序|从低到高|從低到高|价格升序|價格升序"
)
SORT_SALES = _re(
    r"sort(?:ed)? by (?:sales|popularity)|best[- ]?sell(?:ing|ers)? first|most popular first|"
    r"按销量|按銷量|销量排序|銷量排序|最热销|最熱銷|卖得最好|賣得最好"
)
#: "not red", "不要红色", "别要红的": the colour entity right after one of these is excluded
NEGATION = _re(r"(?:\bnot|\bno|\bwithout|\bexcept|不要|别要|別要|不想要|除了|非)\s*$")
#: words that point at the product in focus rather than the list
THIS = _re(r"\b(?:it|this|this one|that one)\b|这个|這個|这款|這款|这件|這件|它|该款|該款|同款")
#: "instead", "换成", "要…的": a colour or size said as a change of the list, not a new search
CHANGE = _re(
    r"instead|ones|any in|in (?:a |an )?(?:other|different)|"
    r"换成|換成|改成|换个|換個|有没有|有沒有|的吗|的嗎|要.+的"
)
#: "换成XL码的" names a change the way an exchange does; on a list it changes the list
SWAP = _re(r"换成|換成|改成|换个|換個|换|換")
#: words that belong to another subject (cart, order): never a refinement
ELSEWHERE = ("view_cart", "order_status", "checkout")


def _has_context(turn: Turn) -> bool:
    return bool(turn.state.last_search or turn.state.focus_product or turn.state.shown_products)


def _looking_at_card(turn: Turn) -> bool:
    return bool(turn.state.focus_product) and (
        turn.state.looking_at == "card" or THIS.search(turn.nlu.text) is not None
    )


def changes_the_list(turn: Turn) -> bool:
    """ "换成XL码的", "換成藍色的" right after a list or a card: a colour or size for what is on screen,
    not an exchange.

    The after-sales intents need words of their own (:mod:`dialogs.routing`); here "换" is the only one,
    so with just a colour or size beside it and a list or card on screen that is what changes. "XL码的要退"
    keeps its return word and stays an after-sales request.
    """
    on_screen = (turn.state.looking_at == "list" and bool(turn.state.last_search)) or (
        turn.state.looking_at == "card" and bool(turn.state.focus_product)
    )
    return (
        on_screen
        and bool(_wanted_options(turn))
        and _only_refining(turn)
        and not has_evidence(turn.nlu.intent, SWAP.sub(" ", turn.nlu.text))
    )


def _on_the_list(turn: Turn, wanted: dict[str, str]) -> bool:
    """ "要L码的", "要红色的" with a list on screen: which of the list, not an order of the card."""
    return bool(wanted) and turn.state.looking_at == "list" and _only_refining(turn)


async def handle(turn: Turn) -> bool:
    """Answer ``turn`` as a refinement if it is one; False leaves it to the intent dispatch."""
    text = turn.nlu.text
    if not _has_context(turn) or any(has_evidence(i, text) for i in ELSEWHERE):
        return False
    if has_catalogue_match(turn.nlu):
        return False  # a product or category named: a new search, not a refinement
    if NEXT.match(text):
        await page_by(turn, +1)
        return True
    if PREVIOUS.match(text):
        await page_by(turn, -1)
        return True
    wanted = _wanted_options(turn)
    buying = turn.nlu.entity("quantity") is not None or (
        turn.nlu.intent == "add_to_cart"
        and has_evidence("add_to_cart", text)
        and not _on_the_list(turn, wanted)
    )
    if buying:
        return False  # "红色 L 的来2件": an order for a variant, which the cart flow takes
    if wanted and turn.state.focus_product and _looking_at_card(turn):
        return await variant_answer(turn, wanted)
    if not turn.state.last_search:
        return False
    query = dict(turn.state.last_search, page=1)
    if SORT_PRICE_DOWN.search(text):
        query["sort"] = "price_desc"
    elif SORT_PRICE.search(text):
        query["sort"] = "price_asc"
    elif SORT_SALES.search(text):
        query["sort"] = "sales"
    elif CHEAPER.search(text) or DEARER.search(text):
        return await cheaper_or_dearer(turn, query, cheaper=CHEAPER.search(text) is not None)
    elif (price := turn.entity("price")) is not None and _only_refining(turn):
        query["price_min"] = shopping.minor(price.get("min"))
        query["price_max"] = shopping.minor(price.get("max"))
    elif wanted or _excluded_colour(turn):
        if not (CHANGE.search(text) or _excluded_colour(turn) or _only_refining(turn)):
            return False
        facets = dict(query.get("facets") or {})
        if (colour := _excluded_colour(turn)) and facets.get("color") == colour:
            facets.pop("color")
        facets.update(wanted)
        query["facets"] = facets
        if colour and "color" not in wanted:
            return await _without_colour(turn, query, colour)
    else:
        return False
    await shopping.run_search(turn, query)
    return True


def _only_refining(turn: Turn) -> bool:
    """The message is just filters (a price, a colour, a size) and filler: it narrows the list."""
    kinds = {e.type for e in turn.nlu.entities}
    return bool(kinds) and kinds <= {"price", "color", "size"} and len(turn.nlu.text) <= 40


def _excluded_colour(turn: Turn) -> str | None:
    for entity in turn.nlu.entities:
        if entity.type == "color" and NEGATION.search(turn.nlu.text[: entity.start]):
            return str(entity.value)
    return None


def _wanted_options(turn: Turn) -> dict[str, str]:
    """Colour and size asked for (a negated colour is not wanted)."""
    wanted: dict[str, str] = {}
    excluded = _excluded_colour(turn)
    for entity in turn.nlu.entities:
        if entity.type == "color" and str(entity.value) != excluded:
            wanted.setdefault("color", str(entity.value))
        elif entity.type == "size":
            wanted.setdefault("size", str(entity.value))
    return wanted


async def page_by(turn: Turn, step: int) -> None:
    """Next or previous page of the last search."""
    if not turn.state.last_search:
        turn.say("search.nothing_to_page")
        return
    page = int(turn.state.last_search.get("page", 1)) + step
    if page < 1:
        turn.say("refine.first_page")
        return
    query = dict(turn.state.last_search, page=page)
    result = await shopping.search_page(turn, query)
    if not result.items:
        turn.say("refine.last_page")
        return
    turn.state.last_search = query
    shopping.show_page(turn, result)


async def _shown(turn: Turn) -> list[ProductView]:
    products = []
    for code in turn.state.shown_products[: turn.settings.page_size]:
        try:
            products.append(await turn.commerce.catalog.get_product(code))
        except NotFound:
            continue
    return products


async def cheaper_or_dearer(turn: Turn, query: dict[str, Any], *, cheaper: bool) -> bool:
    """Below the cheapest item shown (or the one in focus), or above the dearest, nearest price first."""
    reference: list[ProductView] = []
    if _looking_at_card(turn) and turn.state.focus_product:
        try:
            reference = [await turn.commerce.catalog.get_product(turn.state.focus_product)]
        except NotFound:
            reference = []
    reference = reference or await _shown(turn)
    if not reference:
        return False
    if cheaper:
        query["price_max"] = min(p.min_price.amount for p in reference) - 1
        query["price_min"] = None
        query["sort"] = "price_desc"
    else:
        query["price_min"] = max(p.max_price.amount for p in reference) + 1
        query["price_max"] = None
        query["sort"] = "price_asc"
    query["exclude"] = [p.code for p in reference]
    page = await shopping.search_page(turn, query)
    if page.total == 0:
        turn.say("refine.none_cheaper" if cheaper else "refine.none_dearer")
        return True
    turn.state.last_search = query
    shopping.show_page(turn, page)
    return True


async def _without_colour(turn: Turn, query: dict[str, Any], colour: str) -> bool:
    """ "not red": the list again without products that come only in that colour."""
    wide = dict(query)
    page = await turn.commerce.catalog.search(
        SearchQuery(
            text=wide.get("text", ""),
            category=wide.get("category"),
            price_min=wide.get("price_min"),
            price_max=wide.get("price_max"),
            facets=wide.get("facets", {}),
            brand=wide.get("brand"),
            page_size=turn.settings.page_size * 3,
        )
    )
    kept = []
    for item in page.items:
        product = await turn.commerce.catalog.get_product(item.code)
        if set(product.option_values("color")) - {colour} or not product.option_values("color"):
            kept.append(item)
    if not kept:
        turn.say("search.none_with_filters")
        return True
    result = SearchPage(tuple(kept[: turn.settings.page_size]), len(kept), 1, turn.settings.page_size)
    turn.state.last_search = query
    turn.send(product_list(turn, result, "search.results"))
    return True


async def variant_answer(turn: Turn, wanted: dict[str, str]) -> bool:
    """ "Do you have it in red size M": yes (with a button to add that one) or no, and what exists."""
    assert turn.state.focus_product is not None
    try:
        product = await turn.commerce.catalog.get_product(turn.state.focus_product)
    except NotFound:
        turn.say("product.gone")
        return True
    wanted = {k: v for k, v in wanted.items() if product.option_values(k) or k == "color"}
    asked = " ".join(option_label(turn, k, v) for k, v in wanted.items())
    sku = product.find_sku(**wanted) if wanted else None
    title = product.title(turn.lang)
    if sku is not None and sku.available > 0:
        turn.say(
            "refine.variant_yes",
            turn.button("refine.add_this", AddSku(sku.code, 1)),
            title=title,
            options=asked,
            price=sku.price.format(),
            count=sku.available,
        )
        return True
    key = "refine.variant_sold_out" if sku is not None else "refine.variant_no"
    offers = []
    separator = ", " if turn.lang == "en" else "、"
    for name in ("color", "size"):
        values = [v for v in product.option_values(name) if product.find_sku(**{name: v}) is not None]
        in_stock = [v for v in values if any(s.available for s in product.skus if s.options.get(name) == v)]
        if in_stock:
            labels = separator.join(option_label(turn, name, v) for v in in_stock)
            offers.append(turn.t(f"option.{name}", values=labels))
    turn.say(
        key,
        turn.button("refine.see_card", ShowProduct(product.code)),
        title=title,
        options=asked,
        offers="\n".join(offers) or turn.t("product.out_of_stock"),
    )
    return True


def selection_out_of_range(turn: Turn) -> bool:
    """ "第二个" after a one-item list: say how many there were instead of opening another item."""
    ordinal = turn.entity("ordinal")
    shown = len(turn.state.shown_products)
    if not shown or not isinstance(ordinal, dict) or not isinstance(ordinal.get("ordinal"), int):
        return False
    number = int(ordinal["ordinal"])
    if number == 0 or -shown <= number <= shown:
        return False
    turn.say("refine.only_shown", count=shown)
    return True
