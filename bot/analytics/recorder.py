"""From a finished turn to behaviour events (R6.2-1), without slowing the turn.

The flows note facts on the turn (``turn.note("search", query=..., results=...)``); after the turn the
pipeline hands the notes here, and the turn is kept as it came (the message, the customer, the
language, the notes). Rows are made of the kept turns only when the :class:`EventBuffer` writes a
batch, in one loop: every turn counted per channel and language (one ``messages`` row per pair and
batch: the denominator of the NLU fallback rate), the pseudonymous subject, channel, language and time
of each note, and for a turn the bot did not understand an ``nlu_fallback`` with the message, masked by
``mask_personal``.

Why not make the rows in the turn: measured in the running pipeline (``bench/turns.py``, events on vs
off), building a turn's rows there cost several times what the same code costs in a loop, because it
runs between the turn's database and Redis work with little of itself left in the CPU's caches. A
turn now pays for one tuple on a list.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING, Any

from commerce_core.analytics.types import mask_personal
from commerce_core.api import Commerce, EventBuffer

if TYPE_CHECKING:
    from dialogs.messages import InboundMessage
    from dialogs.state import ConversationState

#: a turn kept for the next batch: message, customer id (None before a web chatter is a customer),
#: language, notes, whether the bot failed to understand it, and when (None: nothing to record but
#: the turn itself, counted in its channel's and language's ``messages`` row)
KeptTurn = tuple[
    "InboundMessage", "int | None", str, "list[tuple[str, dict[str, Any]]]", bool, "datetime | None"
]


class BehaviourRecorder:
    def __init__(self, commerce: Commerce, buffer: EventBuffer) -> None:
        self._analytics = commerce.analytics
        self._clock = commerce.clock
        self.buffer = buffer
        self._kept: list[KeptTurn] = []
        self._batch_size = buffer.batch_size
        buffer.add_source(self._rows, self._waiting)

    def turn(
        self,
        message: InboundMessage,
        state: ConversationState,
        notes: list[tuple[str, dict[str, Any]]],
        fallback: bool,
    ) -> None:
        kept = self._kept
        kept.append(
            (message, state.customer_id, state.lang or "zh-Hans", notes, fallback,
             self._clock.now() if notes or fallback else None)
        )  # fmt: skip
        if len(kept) >= self._batch_size:
            self.buffer.wake()
        self.buffer.start()

    def _waiting(self) -> int:
        """Rows the kept turns make: a ``messages`` count per (channel, language) and their events."""
        pairs = {(message.channel, language) for message, _, language, _, _, _ in self._kept}
        return len(pairs) + sum(len(notes) + fallback for _, _, _, notes, fallback, _ in self._kept)

    def _rows(self) -> list[tuple[Any, ...]]:
        """The rows of the turns kept since the last batch, in ``EVENT_COLUMNS`` order: their events,
        and one ``messages`` row per channel and language with the number of turns in ``results``."""
        kept, self._kept = self._kept, []
        if not kept:
            return []
        analytics = self._analytics
        rows: list[tuple[Any, ...]] = []
        counted: Counter[tuple[str, str]] = Counter()
        for message, customer_id, language, notes, fallback, at in kept:
            channel = message.channel
            counted[(channel, language)] += 1
            if at is None:  # nothing noted, understood: counted only
                continue
            day = at.date()
            if customer_id is not None:
                subject = analytics.customer_subject(customer_id)
            else:  # a web chatter who is not a customer yet
                subject = analytics.conversation_subject(message.conversation_key)
            for kind, fields in notes:  # the note fields an event keeps
                got = fields.get
                rows.append(
                    (day, at, kind, subject, channel, language, got("merchant_id"), got("product"),
                     got("query"), got("filters"), got("results"), got("amount"))
                )  # fmt: skip
            if fallback:
                # what was not understood, masked before it is kept (no digits, no e-mail addresses):
                # the dashboard's "most misunderstood messages" (R6.1-2)
                said = mask_personal(message.effective_text) or None
                rows.append(
                    (day, at, "nlu_fallback", subject, channel, language, None, None, said, None, None, None)
                )
        now = self._clock.now()
        rows.extend(
            (now.date(), now, "messages", "-", channel, language, None, None, None, None, n, None)
            for (channel, language), n in counted.items()
        )
        return rows

    async def close(self) -> None:
        await self.buffer.close()
