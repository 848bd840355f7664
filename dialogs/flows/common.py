"""Rendering helpers shared by flows: product cards and lists, cart and order views, labels."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from commerce_core.api import (
    AddressInput,
    CartLineView,
    CartView,
    NotFound,
    OrderLineView,
    OrderView,
    ProblemKind,
    ProductSummary,
    ProductView,
    SearchPage,
    pick_language,
)
from dialogs.context import Turn
from dialogs.messages import (
    Button,
    CartSummary,
    LineItem,
    OrderSummary,
    ProductCard,
    ProductList,
    ProductListItem,
)
from dialogs.payloads import (
    AddProduct,
    AfterSales,
    CancelOrder,
    ChangeAddress,
    Checkout,
    ConfirmReceipt,
    Decrease,
    Increase,
    MoreResults,
    OrderHistory,
    Pay,
    ReportListing,
    ReviewOrder,
    ShowProduct,
    Similar,
    Track,
    ViewCart,
)

CHINA = timezone(timedelta(hours=8))


def option_label(turn: Turn, name: str, value: str) -> str:
    if name == "color":
        return turn.texts.get(turn.lang, f"color.{value}") if value else value
    if value == "one-size":
        return turn.t("size.one_size")
    return value


def options_text(turn: Turn, options: dict[str, str]) -> str:
    return " ".join(option_label(turn, k, v) for k, v in options.items())


def local_time(turn: Turn, when: datetime) -> str:
    local = when.astimezone(CHINA)
    return local.strftime("%m-%d %H:%M") if turn.lang != "en" else local.strftime("%d %b %H:%M")


def price_range(item: ProductSummary | ProductView) -> str:
    low, high = item.min_price, item.max_price
    return low.format() if low == high else f"{low.format()}–{high.format()}"


def product_list(turn: Turn, result: SearchPage, title_key: str, **params: object) -> ProductList:
    page = result
    first = (page.page - 1) * page.page_size
    items = tuple(
        ProductListItem(first + n, p.code, p.title(turn.lang), price_range(p), p.image, p.available)
        for n, p in enumerate(page.items, start=1)
    )
    buttons = [b for i in items for b in Button.offer(f"{i.position}. {i.title[:18]}", ShowProduct(i.code))]
    if page.has_more:
        buttons.append(turn.button("button.more", MoreResults()))
    turn.state.shown_products = [p.code for p in page.items]
    turn.state.reasons = {}  # a search or a plain list: no item is there for this shopper's own reasons
    turn.state.looking_at = "list"
    params.setdefault("page", page.page)
    return ProductList(
        turn.t(title_key, total=page.total, **params),
        items,
        page.page,
        page.has_more,
        page.total,
        tuple(buttons),
    )


def product_card(
    turn: Turn, product: ProductView, *, reason: str | None = None, reviews: Sequence[str] = ()
) -> ProductCard:
    """The card; ``reviews`` are its review lines (the average and latest comments, R5.3-1). Opened from
    a recommendation list, it repeats why the item was recommended (R5.3-2)."""
    reason = reason or turn.state.reasons.get(product.code)
    options = []
    for name in ("color", "size", "storage", "capacity", "style"):
        values = product.option_values(name)
        if values:
            separator = ", " if turn.lang == "en" else "、"
            labels = separator.join(option_label(turn, name, v) for v in values)
            options.append(turn.t(f"option.{name}", values=labels))
    turn.state.looking_at = "card"
    turn.state.viewed = [*(c for c in turn.state.viewed if c != product.code), product.code][-5:]
    buttons = [
        *Button.offer(turn.t("button.add_to_cart"), AddProduct(product.code)),
        *Button.offer(turn.t("button.similar"), Similar(product.code)),
        turn.button("button.view_cart", ViewCart()),
        *Button.offer(turn.t("listings.report.button"), ReportListing(product.code)),
    ]
    stock_note = (
        turn.t("product.in_stock", count=product.available)
        if product.available
        else turn.t("product.out_of_stock")
    )
    return ProductCard(
        product.code,
        product.title(turn.lang),
        price_range(product),
        "\n".join([pick_language(product.description, turn.lang), stock_note, *reviews]),
        product.images[0] if product.images else None,
        product.available,
        tuple(options),
        reason,
        tuple(buttons),
    )


def line_items(turn: Turn, lines: Sequence[CartLineView] | Sequence[OrderLineView]) -> tuple[LineItem, ...]:
    """Cart lines and order lines are shown the same way."""
    return tuple(
        LineItem(
            line.title(turn.lang),
            options_text(turn, line.options),
            line.quantity,
            line.unit_price.format(),
            line.line_total.format(),
            line.sku_code,
        )
        for line in lines
    )


def cart_summary(turn: Turn, cart: CartView) -> CartSummary:
    lines = line_items(turn, cart.lines)
    notes = []
    for problem in cart.problems:
        title = next((li.title for li in lines if li.sku == problem.sku_code), problem.sku_code)
        if problem.kind is ProblemKind.PRICE_CHANGED and problem.old_price and problem.new_price:
            notes.append(
                turn.t(
                    "cart.problem.price_changed",
                    title=title,
                    old=problem.old_price.format(),
                    new=problem.new_price.format(),
                )
            )
        elif problem.kind is ProblemKind.INSUFFICIENT_STOCK:
            notes.append(turn.t("cart.problem.insufficient_stock", title=title, available=problem.available))
        else:
            notes.append(turn.t(f"cart.problem.{problem.kind.value}", title=title))
    buttons: list[Button] = []
    for li in lines:
        buttons += [
            *Button.offer(f"＋ {li.title[:12]}", Increase(li.sku)),
            *Button.offer(f"－ {li.title[:12]}", Decrease(li.sku)),
        ]
    if cart.can_checkout:
        buttons.append(turn.button("button.checkout", Checkout()))
    subtotal = cart.subtotal.format() if cart.subtotal else "-"
    return CartSummary(
        turn.t("cart.title", count=cart.item_count),
        lines,
        turn.t("cart.subtotal", amount=subtotal),
        tuple(notes),
        tuple(buttons),
    )


def status_label(turn: Turn, status: str) -> str:
    return turn.t(f"status.{status}")


def order_summary(turn: Turn, order: OrderView, *, title_key: str = "order.title") -> OrderSummary:
    lines = line_items(turn, order.lines)
    notes = []
    if order.shipping_fee.amount:
        notes.append(turn.t("order.shipping_fee", amount=order.shipping_fee.format()))
    if order.refunded.amount:
        notes.append(turn.t("order.refunded", amount=order.refunded.format()))
    buttons = order_buttons(turn, order)
    return OrderSummary(
        order.number,
        turn.t(title_key, number=order.number),
        turn.t("order.status_line", status=status_label(turn, order.status)),
        lines,
        turn.t("order.total", amount=order.total.format()),
        turn.t("order.address", address=order.masked_address),
        tuple(notes),
        tuple(buttons),
    )


def order_buttons(turn: Turn, order: OrderView) -> list[Button]:
    buttons = []
    if order.status == "pending_payment":
        buttons.append(turn.button("button.pay", Pay(order.number)))
    if order.status in ("pending_payment", "paid"):
        buttons += [
            turn.button("button.cancel_order", CancelOrder(order.number)),
            turn.button("button.change_address", ChangeAddress(order.number)),
        ]
    if order.status in ("shipped", "delivered", "completed"):
        buttons.append(turn.button("button.track", Track(order.number)))
    if order.status in ("delivered", "completed"):
        buttons.append(turn.button("button.after_sales", AfterSales(order.number)))
        buttons.append(turn.button("reviews.rate_button", ReviewOrder(order.number)))  # R5.3-1
    if order.status == "delivered":
        buttons.append(turn.button("receipt.confirm_button", ConfirmReceipt(order.number)))
    buttons.append(turn.button("receipt.history_button", OrderHistory(order.number)))
    return buttons


async def focus_on(turn: Turn, code: str) -> ProductView | None:
    """Open a product a button names and make it the one in focus; tell the shopper if it is gone."""
    try:
        product = await turn.commerce.catalog.get_product(code)
    except NotFound:
        turn.say("product.gone")
        return None
    turn.state.focus_product = product.code
    return product


async def resolve_product(turn: Turn) -> ProductView | None:
    """The product the shopper means: a named product, "the second one", the only one of the list on
    screen ("加入购物车" under a one-item list), or the one in focus."""
    commerce = turn.commerce
    code = turn.entity("product")
    ordinal = turn.entity("ordinal")
    if code is None and ordinal is not None and turn.state.shown_products:
        index = _ordinal_index(ordinal, len(turn.state.shown_products))
        if index is not None:
            code = turn.state.shown_products[index]
    if (
        code is None
        and ordinal is None
        and turn.state.looking_at == "list"
        and len(turn.state.shown_products) == 1
    ):
        code = turn.state.shown_products[0]
    if code is None:
        code = turn.state.focus_product
    if code is None:
        return None
    try:
        product = await commerce.catalog.get_product(str(code))
    except NotFound:
        return None
    turn.state.focus_product = product.code
    return product


def _ordinal_index(value: object, count: int) -> int | None:
    number = value.get("ordinal") if isinstance(value, dict) else value
    if not isinstance(number, int):
        return None
    index = count + number if number < 0 else number - 1
    return index if 0 <= index < count else None


def _ascii_number(text: str) -> bool:
    """Digits 0-9 only: ``str.isdigit`` also says yes to "²" and "٣", which ``int`` then refuses."""
    return text.isascii() and text.isdigit()


def ordinal_index(turn: Turn, count: int) -> int | None:
    ordinal = turn.entity("ordinal")
    if ordinal is None:
        quantity = turn.entity("quantity") if _ascii_number(turn.nlu.text.strip()) else None
        ordinal = quantity
    if ordinal is None and _ascii_number(turn.nlu.text.strip()):
        ordinal = int(turn.nlu.text.strip())
    return _ordinal_index(ordinal, count) if ordinal is not None else None


_PHONE = re.compile(
    r"(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}|\+\d{1,3}[\s-]?\d{2,4}(?:[\s-]?\d{3,4}){1,3}"
)
_SEPARATORS = " ,，;；:：\n\t"
KNOWN_CITIES = {
    "beijing": "北京",
    "shanghai": "上海",
    "guangzhou": "广州",
    "shenzhen": "深圳",
    "hangzhou": "杭州",
    "nanjing": "南京",
    "chengdu": "成都",
    "wuhan": "武汉",
    "xian": "西安",
    "xi'an": "西安",
    "chongqing": "重庆",
    "tianjin": "天津",
    "suzhou": "苏州",
    "hong kong": "香港",
    "taipei": "台北",
    "macau": "澳门",
}


def _city(address: str) -> str:
    if match := re.search(r"([\u4e00-\u9fff]{2,4}?)市", address):
        return match.group(1)
    lowered = address.lower()
    for english, chinese in KNOWN_CITIES.items():
        if english in lowered or chinese in address:
            return chinese if chinese in address else english.title()
    if match := re.match(r"([\u4e00-\u9fff]{2,3}?)[\u4e00-\u9fff]{1,4}[区區县縣]", address):
        return match.group(1)
    return re.split(r"[\s,，]+", address.strip())[0][:20]


def parse_address(text: str, fallback_name: str | None = None) -> AddressInput | None:
    """Read "name phone address" (or "address name phone") from one message, Chinese or English.

    The mobile number is found by pattern; the words on one side of it are the name, the other side
    the address; the city is the one the address names (上海市, "Shanghai", ...).
    """
    match = _PHONE.search(text)
    if not match:
        return None
    before = text[: match.start()].strip(_SEPARATORS)
    after = text[match.end() :].strip(_SEPARATORS)
    if before and after:
        name, address = (before, after) if len(before) <= len(after) else (after, before)
    elif after or before:
        rest = after or before
        parts = rest.split()
        if len(parts) < 2:
            name, address = fallback_name or "", rest
        elif after:
            name, address = parts[0], " ".join(parts[1:])
        else:
            name, address = parts[-1], " ".join(parts[:-1])
    else:
        return None
    if not name or not address or len(name) > 30:
        return None
    return AddressInput(recipient=name, phone=match.group(), city=_city(address), line=address)
