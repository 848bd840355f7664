"""Our commerce as Rasa custom actions (rasa-sdk), for teams that run Rasa for dialogue.

Each action is a small, typed function of the tracker snapshot: it reads slots and the latest
entities, calls the commerce core, and answers with a message (text in the user's language plus a
machine-readable ``custom`` payload) and slot events. ``shopbot rasa-actions`` serves them with
rasa-sdk's own action server.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher

from commerce_core.api import CaseItemRequest, CaseKind, Commerce, DomainError, NotFound, SearchQuery
from dialogs.errors import describe
from dialogs.texts import LANGUAGES, Texts, load_texts

CHANNEL = "rasa"


@dataclass
class ActionContext:
    commerce: Commerce
    texts: Texts
    tracker: Tracker
    dispatcher: CollectingDispatcher

    @property
    def lang(self) -> str:
        lang = self.tracker.get_slot("language")
        return lang if lang in LANGUAGES else "en"

    def value(self, name: str) -> Any:
        """The latest message's entity, else the slot of the same name."""
        entity = next(self.tracker.get_latest_entity_values(name), None)
        return entity if entity is not None else self.tracker.get_slot(name)

    def say(self, key: str, custom: dict[str, Any] | None = None, **params: Any) -> None:
        self.dispatcher.utter_message(text=self.texts.get(self.lang, key, **params), json_message=custom)

    async def customer_id(self) -> int:
        customer = await self.commerce.customers.identify(
            CHANNEL, self.tracker.sender_id or "anonymous", language=self.lang
        )
        return customer.id


Handler = Callable[[ActionContext], Awaitable[list[EventType]]]


async def search_products(ctx: ActionContext) -> list[EventType]:
    text = ctx.tracker.latest_message.get("text") or ""
    facets = {k: str(v) for k in ("color", "size") if (v := ctx.value(k))}
    page = await ctx.commerce.catalog.search(SearchQuery(text=text, facets=facets, page_size=5))
    items = [
        {"code": p.code, "title": p.title(ctx.lang), "price": p.min_price.format(), "available": p.available}
        for p in page.items
    ]
    if not items:
        ctx.say("search.none")
        return [SlotSet("shown_products", [])]
    lines = "\n".join(f"{n}. {i['title']} {i['price']}" for n, i in enumerate(items, 1))
    ctx.dispatcher.utter_message(
        text=ctx.texts.get(ctx.lang, "search.results", total=page.total, page=1) + "\n" + lines,
        json_message={"products": items},
    )
    return [SlotSet("shown_products", [i["code"] for i in items])]


async def product_details(ctx: ActionContext) -> list[EventType]:
    code = ctx.value("product")
    shown = ctx.tracker.get_slot("shown_products") or []
    ordinal = ctx.value("ordinal")
    if code is None and shown and isinstance(ordinal, dict) and isinstance(ordinal.get("ordinal"), int):
        index = ordinal["ordinal"] - 1 if ordinal["ordinal"] > 0 else len(shown) + ordinal["ordinal"]
        code = shown[index] if 0 <= index < len(shown) else None
    if code is None:
        ctx.say("product.which")
        return []
    product = await ctx.commerce.catalog.get_product(str(code))
    skus = [
        {"sku": s.code, "options": s.options, "price": s.price.format(), "available": s.available}
        for s in product.skus
    ]
    ctx.dispatcher.utter_message(
        text=f"{product.title(ctx.lang)} {product.min_price.format()}",
        json_message={"product": product.code, "skus": skus},
    )
    return [SlotSet("product", product.code)]


async def add_to_cart(ctx: ActionContext) -> list[EventType]:
    sku = ctx.value("sku")
    if sku is None and (code := ctx.value("product")):
        product = await ctx.commerce.catalog.get_product(str(code))
        wanted = {k: str(v) for k in ("color", "size") if (v := ctx.value(k))}
        match = (
            product.find_sku(**wanted) if wanted else (product.skus[0] if len(product.skus) == 1 else None)
        )
        sku = match.code if match else None
    if sku is None:
        ctx.say("cart.which_product")
        return []
    quantity = int(ctx.value("quantity") or 1)
    cart = await ctx.commerce.cart.add(await ctx.customer_id(), str(sku), quantity)
    line = next(li for li in cart.lines if li.sku_code == sku)
    ctx.say(
        "cart.added",
        {"cart_items": cart.item_count},
        title=line.title(ctx.lang),
        options="",
        quantity=quantity,
        count=cart.item_count,
    )
    return []


async def view_cart(ctx: ActionContext) -> list[EventType]:
    cart = await ctx.commerce.cart.view(await ctx.customer_id())
    if cart.is_empty:
        ctx.say("cart.empty")
        return []
    lines = [
        {
            "sku": li.sku_code,
            "title": li.title(ctx.lang),
            "quantity": li.quantity,
            "total": li.line_total.format(),
        }
        for li in cart.lines
    ]
    subtotal = cart.subtotal.format() if cart.subtotal else ""
    ctx.say("cart.subtotal", {"lines": lines}, amount=subtotal)
    return []


async def order_status(ctx: ActionContext) -> list[EventType]:
    number = ctx.value("order_number")
    if not number:
        ctx.say("order.tracking_number_unknown")
        return []
    order = await ctx.commerce.orders.get(str(number), customer_id=await ctx.customer_id())
    status = ctx.texts.get(ctx.lang, f"status.{order.status}")
    custom: dict[str, Any] = {"order": order.number, "status": order.status, "total": order.total.amount}
    try:
        shipment = await ctx.commerce.shipments.track(order.number)
        custom["tracking"] = {
            "number": shipment.tracking_number,
            "status": shipment.status,
            "events": [e.description.get(ctx.lang, "") for e in shipment.events],
        }
    except NotFound:
        pass
    ctx.say("order.status_line", custom, status=status)
    return [SlotSet("order_number", order.number)]


async def cancel_order(ctx: ActionContext) -> list[EventType]:
    number = ctx.value("order_number")
    if not number:
        ctx.say("order.tracking_number_unknown")
        return []
    result = await ctx.commerce.orders.cancel(
        str(number),
        actor=f"{CHANNEL}:{ctx.tracker.sender_id}",
        reason="customer request via rasa",
        customer_id=await ctx.customer_id(),
    )
    key = "cancel.done_refund" if result.refund_id else "cancel.done"
    ctx.say(
        key,
        {"order": result.order.number, "refund": result.refund_id},
        number=result.order.number,
        amount=result.order.total.format(),
    )
    return []


async def open_after_sales(ctx: ActionContext) -> list[EventType]:
    number = ctx.value("order_number")
    kind = str(ctx.value("case_kind") or "return")
    if not number or kind not in {k.value for k in CaseKind}:
        ctx.say("after_sales.pick_order_again")
        return []
    order = await ctx.commerce.orders.get(str(number), customer_id=await ctx.customer_id())
    line = int(ctx.value("line") or 1)
    quantity = next((li.quantity for li in order.lines if li.line_no == line), 1)
    case = await ctx.commerce.after_sales.open(
        order.customer_id,
        order.number,
        CaseKind(kind),
        [CaseItemRequest(line, quantity)],
        reason_code=str(ctx.value("reason") or "other"),
        reason_text=ctx.tracker.latest_message.get("text"),
    )
    ctx.say(
        "after_sales.opened",
        {"case": case.number},
        number=case.number,
        kind=ctx.texts.get(ctx.lang, f"case_kind.{case.kind}"),
        due=case.first_response_due_at.isoformat(),
    )
    return [SlotSet("case_number", case.number)]


ACTIONS: dict[str, Handler] = {
    "action_search_products": search_products,
    "action_product_details": product_details,
    "action_add_to_cart": add_to_cart,
    "action_view_cart": view_cart,
    "action_order_status": order_status,
    "action_cancel_order": cancel_order,
    "action_open_after_sales": open_after_sales,
}


class CommerceAction(Action):  # type: ignore[misc]
    """Adapts one handler to rasa-sdk; domain errors become a friendly message, never a 500."""

    def __init__(self, action_name: str, handler: Handler, commerce: Commerce, texts: Texts) -> None:
        self._name = action_name
        self._handler = handler
        self._commerce = commerce
        self._texts = texts

    def name(self) -> str:
        return self._name

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        ctx = ActionContext(self._commerce, self._texts, tracker, dispatcher)
        try:
            return await self._handler(ctx)
        except DomainError as error:
            dispatcher.utter_message(
                text=describe(error, self._texts, ctx.lang), json_message={"error": error.code}
            )
            return []


def action_executor(commerce: Commerce, texts: Texts | None = None) -> ActionExecutor:
    executor = ActionExecutor()
    texts = texts or load_texts()
    for action_name, handler in ACTIONS.items():
        executor.register_action(CommerceAction(action_name, handler, commerce, texts))
    return executor
