"""From a finished turn to behaviour events (R6.2-1), without slowing the turn.

The flows note facts on the turn (``turn.note("search", query=..., results=...)``); after the turn the
pipeline hands the notes here. This builds the event rows (a pseudonymous subject, channel, language,
time) as plain tuples and appends them to an in-memory :class:`EventBuffer`, which writes them in
batches from a background task. Every turn is also counted per channel and language (written as one
``messages`` row per batch: the denominator of the NLU fallback rate), and a turn the bot did not
understand adds an ``nlu_fallback`` with the message, masked by ``mask_personal``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from commerce_core.analytics.types import mask_personal
from commerce_core.api import Commerce, EventBuffer

if TYPE_CHECKING:
    from dialogs.messages import InboundMessage
    from dialogs.state import ConversationState

class BehaviourRecorder:
    def __init__(self, commerce: Commerce, buffer: EventBuffer) -> None:
        self._commerce = commerce
        self.buffer = buffer

    def turn(
        self,
        message: InboundMessage,
        state: ConversationState,
        notes: list[tuple[str, dict[str, Any]]],
        fallback: bool,
    ) -> None:
        channel, language = message.channel, state.lang or "zh-Hans"
        self.buffer.count_message(channel, language)
        if not notes and not fallback:  # most turns: nothing else to record
            self.buffer.start()
            return
        analytics = self._commerce.analytics
        if state.customer_id is not None:
            subject = analytics.customer_subject(state.customer_id)
        else:  # a web chatter who is not a customer yet
            subject = analytics.conversation_subject(message.conversation_key)
        at = self._commerce.clock.now()
        day = at.date()
        rows: list[tuple[Any, ...]] = []
        for kind, fields in notes:  # the note fields an event keeps, in EVENT_COLUMNS order
            got = fields.get
            rows.append(
                (day, at, kind, subject, channel, language, got("merchant_id"), got("product"),
                 got("query"), got("filters"), got("results"), got("amount"))
            )  # fmt: skip
        if fallback:
            # what was not understood, masked before it is kept (no digits, no e-mail addresses): the
            # dashboard's "most misunderstood messages" (R6.1-2)
            said = mask_personal(message.effective_text) or None
            rows.append(
                (day, at, "nlu_fallback", subject, channel, language, None, None, said, None, None, None)
            )
        self.buffer.add_rows(rows)
        self.buffer.start()

    async def close(self) -> None:
        await self.buffer.close()
