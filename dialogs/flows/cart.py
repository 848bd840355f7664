"""The cart: add (choosing a variant when needed), view, change quantities, remove."""

from __future__ import annotations

from commerce_core.api import InvalidInput, NotFound, ProductView, SkuView
from dialogs.context import Turn
from dialogs.flows.base import Flow, StepSpec
from dialogs.flows.common import cart_summary, focus_on, options_text, ordinal_index, resolve_product
from dialogs.messages import Button
from dialogs.payloads import QUANTITY, AddSku, Checkout, Popular, ViewCart

REMOVE_WORDS = ("删", "刪", "去掉", "不要", "remove", "delete", "drop", "移除", "拿掉")
MAX_SKU_BUTTONS = 10


def _matching(product: ProductView, turn: Turn) -> list[SkuView]:
    wanted = {k: str(v) for k in ("color", "size") if (v := turn.entity(k)) is not None}
    wanted.update({k: v for k, v in turn.slots.get("options", {}).items() if k not in wanted})
    return [
        s
        for s in product.skus
        if all(str(s.options.get(k, "")).lower() == v.lower() for k, v in wanted.items() if k in s.options)
    ]


async def add(turn: Turn) -> None:
    product = await resolve_product(turn)
    if product is None:
        turn.say("cart.which_product")
        return
    quantity = turn.entity("quantity") or 1
    await _add_product(turn, product, int(quantity))


async def add_code(turn: Turn, code: str) -> None:
    if (product := await focus_on(turn, code)) is not None:
        await _add_product(turn, product, int(turn.entity("quantity") or 1))


async def _add_product(turn: Turn, product: ProductView, quantity: int) -> None:
    """Add when the shopper's words (or the product) leave one variant; otherwise ask with buttons."""
    if not QUANTITY.low <= quantity <= QUANTITY.high:  # the core's limit, before it goes on a button
        raise InvalidInput("quantity out of range", code="invalid_quantity", maximum=QUANTITY.high)
    said_options = any(turn.entity(k) is not None for k in ("color", "size"))
    matches = _matching(product, turn)
    in_stock = [s for s in matches if s.available > 0]
    if len(product.skus) == 1 or (said_options and (len(matches) == 1 or len(in_stock) == 1)):
        await add_sku(turn, (in_stock or matches or list(product.skus))[0].code, quantity)
        return
    candidates = sorted(matches, key=lambda s: s.available == 0)  # what can be bought first
    if not candidates:
        turn.say("cart.no_such_variant", title=product.title(turn.lang))
        candidates = list(product.skus)
    buttons = [
        button
        for s in candidates[:MAX_SKU_BUTTONS]
        for button in Button.offer(
            f"{options_text(turn, s.options)} {s.price.format()}" + ("" if s.available else " ✕"),
            AddSku(s.code, quantity),
        )
    ]
    turn.begin("add_to_cart", "choose_sku", product=product.code, quantity=quantity)
    turn.say("cart.choose_variant", *buttons, title=product.title(turn.lang))


async def choose_sku(turn: Turn) -> None:
    """A typed answer while choosing: "红色 L", "the second one", "M"."""
    try:
        product = await turn.commerce.catalog.get_product(str(turn.slots.get("product")))
    except NotFound:
        turn.finish()
        turn.say("product.gone")
        return
    quantity = int(turn.entity("quantity") or turn.slots.get("quantity") or 1)
    matches = _matching(product, turn)
    index = ordinal_index(turn, len(product.skus)) if turn.entity("color") is None else None
    if index is not None and turn.entity("size") is None:
        matches = [product.skus[index]]
    in_stock = [s for s in matches if s.available > 0]
    if len(in_stock) == 1:
        turn.finish()
        await add_sku(turn, in_stock[0].code, quantity)
        return
    if matches and not in_stock and len(matches) < len(product.skus):
        turn.say("cart.variant_sold_out", options=" / ".join(options_text(turn, s.options) for s in matches))
        return
    tries = int(turn.slots.get("tries", 0)) + 1
    if tries >= 3:  # don't hold the shopper in a loop: let go, they can tap a size button any time
        turn.finish()
        turn.say("cart.choice_dropped", title=product.title(turn.lang))
        return
    turn.slots["tries"] = tries
    turn.say("cart.choose_variant_again", title=product.title(turn.lang))


async def add_sku(turn: Turn, sku_code: str, quantity: int) -> None:
    cart = await turn.commerce.cart.add(turn.customer_id, sku_code, quantity)
    line = next((li for li in cart.lines if li.sku_code == sku_code), None)
    if turn.state.active and turn.state.active.flow == "add_to_cart":
        turn.finish()
    if line is None:
        return
    turn.note("cart_add", product=line.product_code, amount=line.unit_price.amount * quantity)
    turn.say(
        "cart.added",
        turn.button("button.view_cart", ViewCart()),
        turn.button("button.checkout", Checkout()),
        turn.button("button.keep_shopping", Popular()),
        title=line.title(turn.lang),
        options=options_text(turn, line.options),
        quantity=quantity,
        count=cart.item_count,
    )
    problem = next((p for p in cart.problems if p.sku_code == sku_code), None)
    if problem is not None and problem.kind.value == "out_of_stock":
        turn.say("cart.problem.out_of_stock", title=line.title(turn.lang))
    elif problem is not None and problem.kind.value == "insufficient_stock":
        turn.say("cart.problem.insufficient_stock", title=line.title(turn.lang), available=problem.available)


async def view(turn: Turn) -> None:
    cart = await turn.commerce.cart.view(turn.customer_id)
    if cart.is_empty:
        turn.say("cart.empty", turn.button("button.popular", Popular()))
        return
    turn.send(cart_summary(turn, cart))


async def change(turn: Turn, sku_code: str, delta: int | None, absolute: int | None = None) -> None:
    cart = await turn.commerce.cart.view(turn.customer_id)
    line = next((li for li in cart.lines if li.sku_code == sku_code), None)
    if line is None:
        turn.say("cart.not_in_cart")
        return
    quantity = absolute if absolute is not None else max(0, line.quantity + (delta or 0))
    cart = await turn.commerce.cart.set_quantity(turn.customer_id, sku_code, quantity)
    if quantity == 0:
        turn.say("cart.removed", title=line.title(turn.lang))
    if cart.is_empty:
        turn.say("cart.empty", turn.button("button.popular", Popular()))
    else:
        turn.send(cart_summary(turn, cart))


async def edit(turn: Turn) -> None:
    """ "把第二个改成3件", "remove the red one", "删掉耳机"."""
    cart = await turn.commerce.cart.view(turn.customer_id)
    if cart.is_empty:
        turn.say("cart.empty", turn.button("button.popular", Popular()))
        return
    target = None
    product = turn.entity("product")
    color, size = turn.entity("color"), turn.entity("size")
    index = ordinal_index(turn, len(cart.lines)) if turn.entity("ordinal") is not None else None
    if index is not None:
        target = cart.lines[index]
    elif (category := turn.entity("category")) is not None and product is None and color is None:
        for line in cart.lines:
            try:
                if (
                    await turn.commerce.catalog.get_product(line.product_code, live_only=False)
                ).category_code == category:
                    target = line
                    break
            except NotFound:
                continue
    elif product is not None or color is not None or size is not None:
        for line in cart.lines:
            if (
                (product is None or line.product_code == product)
                and (color is None or line.options.get("color") == color)
                and (size is None or str(line.options.get("size", "")).lower() == str(size).lower())
            ):
                target = line
                break
    elif len(cart.lines) == 1:
        target = cart.lines[0]
    if target is None:
        turn.send(cart_summary(turn, cart))
        turn.say("cart.which_line")
        return
    text = turn.nlu.text.lower()
    if any(word in text for word in REMOVE_WORDS):
        await change(turn, target.sku_code, None, 0)
    elif (quantity := turn.entity("quantity")) is not None:
        await change(turn, target.sku_code, None, int(quantity))
    else:
        turn.send(cart_summary(turn, cart))


ADD = Flow(
    "add_to_cart",
    add,
    {"choose_sku": StepSpec(choose_sku, expects="size")},
    own_intents=frozenset({"add_to_cart", "product_details", "edit_cart", "checkout"}),
)
