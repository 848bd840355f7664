"""After delivery: the shopper confirms receipt, and can read an order's status history (R4.1-3).

Why: "delivered" is the carrier's word; the shopper saying "I got it" closes the order (completed), and
the history answers "what happened to my order?" without a person. Both act only on the shopper's own
orders (the order is read for this customer first).
"""

from __future__ import annotations

import re

from commerce_core.api import DomainError
from dialogs.context import Turn
from dialogs.flows.common import local_time, order_summary, status_label
from dialogs.flows.orders import find_order

#: "确认收货", "I got my order", "已收到" (said about an order, not a product)
CONFIRM_WORDS = re.compile(
    r"确认收货|確認收貨|确认收到|確認收到|已(?:经)?收到(?:货|貨)?了?$|已(?:經)?收到|收到货了|收到貨了|"
    r"confirm (?:the )?receipt|(?:i )?(?:got|received) (?:my |the )?(?:order|parcel|package)",
    re.IGNORECASE,
)
HISTORY_WORDS = re.compile(
    r"status history|order history|history of (?:my )?order|what happened to my order|"
    r"订单(?:状态)?(?:历史|记录|进度)|訂單(?:狀態)?(?:歷史|記錄|進度)|状态记录|狀態記錄",
    re.IGNORECASE,
)


async def _order_number(turn: Turn, number: str | None) -> str | None:
    number = number or turn.entity("order_number") or turn.state.last_order
    if number is None:
        latest = await turn.commerce.orders.for_customer(turn.customer_id, limit=1)
        number = latest[0].number if latest else None
    if number is None:
        turn.say("receipt.no_order")
    return str(number) if number else None


async def confirm(turn: Turn, number: str | None = None) -> None:
    number = await _order_number(turn, number)
    if number is None or (order := await find_order(turn, number=number)) is None:
        return
    if order.status != "delivered":
        turn.say("receipt.not_delivered", number=order.number, status=status_label(turn, order.status))
        return
    try:
        done = await turn.commerce.orders.complete(
            order.number, actor="customer", customer_id=turn.customer_id
        )
    except DomainError:
        turn.say("receipt.not_delivered", number=order.number, status=status_label(turn, order.status))
        return
    turn.send(order_summary(turn, done, title_key="receipt.thanks"))


async def history(turn: Turn, number: str | None = None) -> None:
    number = await _order_number(turn, number)
    if number is None or (order := await find_order(turn, number=number)) is None:
        return
    changes = await turn.commerce.orders.history(order.number)
    lines = [
        turn.t("receipt.history_line", at=local_time(turn, c.at), status=status_label(turn, c.to_status))
        for c in changes
    ]
    turn.say("receipt.history", number=order.number, lines="\n".join(lines))


async def handle_text(turn: Turn) -> bool:
    """ "确认收货" / "order status history" typed: True when answered."""
    text = turn.nlu.text
    if len(text) > 60:
        return False
    if CONFIRM_WORDS.search(text):
        await turn.ensure_customer()
        await confirm(turn)
        return True
    if HISTORY_WORDS.search(text):
        await turn.ensure_customer()
        await history(turn)
        return True
    return False
