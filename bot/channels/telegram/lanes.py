"""Per-chat lanes for the update worker: each chat's updates in arrival order, chats in parallel.

Why: the worker used to process a batch and wait for all of it before reading the next one, so one chat
whose replies were being retried (Telegram's flood control) held up every other chat: a second chat
waited 12.6 s (issue 11, finding 10). Here every chat has its own lane (a queue and a task that exists
while the queue is not empty); the reader keeps feeding lanes while a slow one works, and a slot is
held per update being processed (bounded parallelism), never per waiting chat.

An entry leaves its lane only when its work succeeded (the work acknowledges it); a failed turn (work
returns False) is retried in place, with a growing pause, so the chat's later updates never overtake
it and nothing is lost. An exception (Redis gone while acknowledging, a crash injected by a test) ends
the lane: its entries stay pending in the inbox and the reader hands them out again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from bot.channels.telegram.inbox import StoredUpdate

log = logging.getLogger(__name__)
RETRY_PAUSES = (0.2, 0.5, 1.0, 2.0, 5.0)


class ChatLanes:
    def __init__(
        self,
        work: Callable[[StoredUpdate], Awaitable[bool]],
        *,
        parallel: int,
        pauses: tuple[float, ...] = RETRY_PAUSES,
    ) -> None:
        self._work = work
        self._slots = asyncio.Semaphore(max(1, parallel))
        self._pauses = pauses
        self._queues: dict[str, deque[StoredUpdate]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        #: entries read but not yet done: the reader must not hand them out a second time
        self.in_flight: set[bytes] = set()
        self.errors: list[Exception] = []

    def add(self, entry: StoredUpdate) -> None:
        if entry.entry_id in self.in_flight:
            return
        self.in_flight.add(entry.entry_id)
        chat = entry.chat or entry.entry_id.decode()
        queue = self._queues.get(chat)
        if queue is not None:
            queue.append(entry)
            return
        self._queues[chat] = deque([entry])
        task = asyncio.create_task(self._run(chat))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def busy(self) -> int:
        return len(self.in_flight)

    async def _run(self, chat: str) -> None:
        queue = self._queues[chat]
        try:
            while queue:
                entry = queue[0]
                await self._until_done(entry)
                queue.popleft()
                self.in_flight.discard(entry.entry_id)
        except Exception as error:
            log.exception("telegram chat lane %s stopped; its updates stay in the inbox", chat)
            self.errors.append(error)
        finally:  # cancelled (shutdown): what is left stays pending in the inbox and is read again
            for left in queue:
                self.in_flight.discard(left.entry_id)
            del self._queues[chat]

    async def _until_done(self, entry: StoredUpdate) -> None:
        attempt = 0
        while True:
            async with self._slots:
                if await self._work(entry):
                    return
            log.warning("telegram update %s failed: retrying", entry.entry_id.decode())
            await asyncio.sleep(self._pauses[min(attempt, len(self._pauses) - 1)])
            attempt += 1

    async def join(self) -> None:
        """Wait until every lane is empty (tests, drain); then raise the first error a lane met."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))
        if self.errors:
            raise self.errors[0]

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
