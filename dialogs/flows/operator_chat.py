"""Operators in the chat: binding a Telegram/WeChat identity with a back-office code, and the merchant's
"Ship" button on a paid-order notification.

Why here and not in a flow: neither is a conversation. ``/bind CODE`` (or "绑定 CODE") is a one-shot
command answered before intent routing, so the NLU never mistakes a code for an order number; the ship
button acts for whoever the pressing chat identity is bound to, never for the shopper record the
pipeline resolved. Every refusal that could reveal something (wrong, used or expired code; an order of
another merchant, or none) gets one neutral answer.
"""

from __future__ import annotations

import re

from commerce_core.api import Action, InvalidInput, NotAllowed, NotFound, allowed
from dialogs.context import Turn

#: "/bind ABCD2345", "/bind@shop_bot abcd-2345", "绑定 ABCD2345", "綁定：ABCD2345"
_BIND = re.compile(r"^\s*(?:/bind(?:@\w+)?|绑定|綁定)\s*[:：]?\s*([A-Za-z0-9][A-Za-z0-9 -]{3,23})\s*$", re.I)
#: the cheap first look every turn gets: only texts starting like a bind command go on to the regex
_STARTS = ("/bind", "绑定", "綁定")


def bind_code(text: str) -> str | None:
    """The code in a bind command, or None when the text is not one."""
    if not text.lstrip().lower().startswith(_STARTS):
        return None
    found = _BIND.match(text)
    return found.group(1) if found else None


async def handle_command(turn: Turn, text: str) -> bool:
    """Answer ``/bind CODE`` if that is what the user sent; False leaves the turn to the dialogs."""
    code = bind_code(text)
    if code is None:
        return False
    message = turn.message
    try:
        operator = await turn.commerce.operators.redeem_binding_code(message.channel, message.user_id, code)
    except InvalidInput as refused:
        turn.say("operator.bind_channel" if refused.code == "invalid_channel" else "operator.bind_invalid")
        return True
    turn.say("operator.bound", name=operator.display_name or operator.email)
    return True


async def ship(turn: Turn, order_number: str) -> None:
    """The Ship button: ship the pressing operator's merchant's part with the simulated carrier."""
    message = turn.message
    operator = await turn.commerce.operators.operator_for_identity(message.channel, message.user_id)
    if operator is None or operator.merchant_id is None or not allowed(operator.role, Action.SHIP_OWN_ORDERS):
        turn.say("operator.not_yours")
        return
    try:
        parcel = await turn.commerce.shipments.ship(
            order_number, merchant_id=operator.merchant_id, actor=f"operator:{operator.public_id}"
        )
    except NotFound:
        turn.say("operator.not_yours")
        return
    except NotAllowed as refused:
        key = "operator.already_shipped" if refused.code == "already_shipped" else "operator.not_shippable"
        turn.say(key, number=order_number)
        return
    turn.say("operator.shipped", number=parcel.order_number, tracking=parcel.tracking_number)
