"""Acknowledgements of processed updates, sent together.

Why: acknowledging each update on its own cost the update worker a Redis round trip (XACK + XDEL in
a transaction) per update; under load the worker finishes many updates while one acknowledgement is
on its way. Here a finished update is queued and one sender acknowledges everything queued since its
last call in one round trip (issue 16), itself shared with the webhook's stores and the send
reservations of other chats at that moment (``bot.infra.roundtrips``, on a single Redis server).

What stays true: an update is acknowledged only after it was processed successfully (the lanes queue
it then, never before). Until its acknowledgement is through, it stays pending in the inbox; the
worker keeps it out of its reads (:attr:`AckBatcher.unsent`), so it is never processed twice by this
process. A failed acknowledgement (Redis away) is retried; a process killed before it leaves the
update pending for its successor, whose turn marks (``bot.turns``) and sent-reply counts
(``outbound``) keep it from being answered twice.

The count of a turn's last reply part rides with its update's acknowledgement (:data:`LEFT_FOR_ACK`):
it was a round trip of its own per turn (issue 16). It is written in the same round trip as the
acknowledgement, before it; until then the update stays pending, so a process killed in between
leaves an update whose retry resends that one part, as a kill between Telegram's answer and the
count's own write did before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from contextvars import ContextVar

from bot.channels.telegram.inbox import UpdateInbox
from bot.infra.roundtrips import Rider

log = logging.getLogger(__name__)
RETRY_SECONDS = 1.0
#: set by the update worker around one update's processing: the Redis writes its work leaves to be
#: made with its acknowledgement (None outside the worker: the work writes them itself)
LEFT_FOR_ACK: ContextVar[list[Rider] | None] = ContextVar("telegram_left_for_ack", default=None)


class AckBatcher:
    def __init__(self, inbox: UpdateInbox) -> None:
        self.inbox = inbox
        self._queued: list[bytes] = []
        self._sending: list[bytes] = []
        self._writes: list[Rider] = []
        self._wake = asyncio.Event()

    def add(self, entry_id: bytes, writes: Sequence[Rider] = ()) -> None:
        """Queue a processed entry, with the writes its work left (see :data:`LEFT_FOR_ACK`)."""
        self._queued.append(entry_id)
        self._writes.extend(writes)
        self._wake.set()

    @property
    def unsent(self) -> set[bytes]:
        """Processed entries whose acknowledgement has not reached Redis yet."""
        return {*self._queued, *self._sending}

    async def flush(self) -> bool:
        """Acknowledge everything queued; False (and kept for later) when Redis refused."""
        if not self._queued and not self._writes:
            return True
        self._sending, self._queued = self._queued, []
        writes, self._writes = self._writes, []
        try:
            await self.inbox.ack(*self._sending, writes=writes)
        except Exception:  # noqa: BLE001 - Redis away: keep them, try again
            log.warning("telegram inbox: acknowledging %s updates failed; retrying", len(self._sending))
            self._queued = self._sending + self._queued
            self._writes = writes + self._writes
            return False
        finally:
            self._sending = []
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Send acknowledgements as they come (batched while one is on its way) until ``stop``."""
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                woken = asyncio.create_task(self._wake.wait())
                await asyncio.wait({woken, stopping}, return_when=asyncio.FIRST_COMPLETED)
                woken.cancel()
                self._wake.clear()
                if not await self.flush():
                    await asyncio.sleep(RETRY_SECONDS)
        finally:
            stopping.cancel()
            await self.flush()  # what finished before the stop
