"""Every flow by name, and the step the active one waits on (used by the engine and by yes/no buttons)."""

from __future__ import annotations

from dialogs.flows import account, after_sales, cart, checkout, orders, shopping, support
from dialogs.flows import merchant_apply as merchant_apply
from dialogs.flows import reviews as reviews
from dialogs.flows.base import Flow, StepSpec
from dialogs.state import ConversationState

FLOWS: dict[str, Flow] = {
    f.name: f
    for f in (
        shopping.SEARCH,
        cart.ADD,
        checkout.CHECKOUT,
        orders.CANCEL,
        orders.CHANGE_ADDRESS,
        after_sales.AFTER_SALES,
        account.ACCOUNT,
        account.PRIVACY,
        support.COMPLAINT,
        merchant_apply.MERCHANT_APPLY,
        reviews.REVIEWS,
    )
}


def waiting_step(state: ConversationState) -> StepSpec | None:
    """The step the active flow waits on, if any."""
    frame = state.active
    if frame is None or frame.flow not in FLOWS:
        return None
    return FLOWS[frame.flow].steps.get(frame.step)
