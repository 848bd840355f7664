"""What a channel may ask about a conversation, without knowing flow or step names.

Channels render replies; a few platform features depend on what the conversation waits for (Telegram
offers a "share my phone number" keyboard button while the checkout asks for the delivery address).
The names of flows and steps stay the dialogs' business: a channel asks these questions instead.
"""

from __future__ import annotations

from dialogs.state import ConversationState


def awaits_delivery_address(state: ConversationState) -> bool:
    """True while the checkout waits for the delivery address (name, phone, address)."""
    active = state.active
    return active is not None and active.flow == "checkout" and active.step == "address"
