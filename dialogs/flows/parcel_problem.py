""" "Report a problem with my parcel" (R4.4-3, R5.4-1): a shopper's lost, late or damaged parcel opens a
case for the merchant and the desk instead of a dead end, and the shopper gets its number.

Why a keyword rule and not an NLU intent: the classifier has no parcel-problem intent (its training
data is another engineer's), and these words are specific enough in each script; the rule runs where
the chat decides what a message means, like the merchant-application phrases. A bare "where is my
parcel" stays order tracking: only a problem word (lost, damaged, never arrived, "有问题") reports.
"""

from __future__ import annotations

import re

from commerce_core.api import NotFound, OrderView, PolicyViolation
from dialogs.context import Turn

#: the problem words, in zh-Hans, zh-Hant and English, about a parcel or a delivery
_REPORT = re.compile(
    r"(包裹|快递|快遞|物流|邮件|郵件|件).{0,6}(有问题|有問題|出问题|出問題|丢了|丟了|丢失|丟失|不见了|不見了|"
    r"破损|破損|坏了|壞了|被压|被壓|一直没到|一直沒到|没收到|沒收到)"
    r"|(没收到|沒收到|丢了|丟了).{0,4}(包裹|快递|快遞)"
    r"|\b(problem|issue|trouble)s? with (my |the )?(parcel|package|delivery|shipment)"
    r"|\b(parcel|package|delivery|shipment) (is |was |got |has been )?(lost|missing|damaged|stolen|broken)"
    r"|\b(lost|missing|damaged) (my )?(parcel|package|delivery)"
    r"|\breport (a |my )?(parcel|package|delivery) problem",
    re.IGNORECASE,
)
_LOST = re.compile(
    r"丢|丟|不见|不見|没收到|沒收到|没到|沒到|lost|missing|stolen|never arrived|not arrived", re.I
)
_DAMAGED = re.compile(r"破|坏|壞|压|壓|damaged|broken|crushed", re.IGNORECASE)
#: the orders whose parcel has left the merchant
SHIPPED = ("shipped", "delivered", "completed")


def is_report(text: str) -> bool:
    return _REPORT.search(text) is not None


def reason_of(text: str) -> str:
    if _LOST.search(text):
        return "not_received"
    if _DAMAGED.search(text):
        return "damaged_in_transit"
    return "other"


async def start(turn: Turn) -> None:
    """Open (or find the open) parcel-problem case on the order named, else the latest shipped one."""
    turn.state.active = None
    text = turn.message.effective_text
    named = turn.entity("order_number")
    order = await _order(turn, str(named) if named else None)
    if order is None:
        if named:
            turn.say("order.not_found", number=str(named))
        else:
            turn.say("parcel_problem.no_parcel")
        return
    try:
        case = await turn.commerce.after_sales.report_parcel_problem(
            turn.customer_id, order.number, reason_code=reason_of(text), reason_text=text[:1000]
        )
    except PolicyViolation:
        turn.say("parcel_problem.not_shipped", number=order.number)
        return
    except NotFound:
        turn.say("order.not_found", number=order.number)
        return
    turn.say("parcel_problem.opened", case=case.number, number=order.number)


async def _order(turn: Turn, number: str | None) -> OrderView | None:
    if not turn.has_customer:
        return None  # only chatted so far: no order, so no parcel
    if number:
        try:
            return await turn.commerce.orders.get(number, customer_id=turn.customer_id)
        except NotFound:
            return None
    shipped = [
        o for o in await turn.commerce.orders.for_customer(turn.customer_id, limit=10) if o.status in SHIPPED
    ]
    return shipped[0] if shipped else None  # the newest first
