"""The passive reply's budget: wait for a turn (:class:`Worked` is what it comes to) until a deadline
without stopping it.

Why its own helper: ``asyncio.wait_for(asyncio.shield(task), budget)`` did this, and in Python 3.11
that is an outer future, a waiter future, a wrapping ``ensure_future``, three callbacks and a timer
for every WeChat turn (issue 16's profile); here it is one future, one callback and one timer.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from dialogs.messages import Reply


@dataclass(frozen=True, slots=True)
class Worked:
    """A message's turn done: its replies, and the shopper's language when the turn said it (None:
    read the conversation's state for it)."""

    replies: list[Reply]
    lang: str | None = None


async def within(task: asyncio.Future[Any], budget: float) -> bool:
    """Whether ``task`` is done within ``budget`` seconds. The task runs on either way, and when the
    caller is cancelled too (what the shield was for): a late answer goes as customer-service messages.
    Its result or error is the caller's to read (``task.result()``)."""
    if task.done():
        return True
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[None] = loop.create_future()

    def wake(_: object = None) -> None:
        if not waiter.done():
            waiter.set_result(None)

    timer = loop.call_later(budget, wake)
    task.add_done_callback(wake)
    try:
        await waiter
    finally:
        timer.cancel()
        task.remove_done_callback(wake)
    return task.done()
