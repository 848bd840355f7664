"""The WeChat channel's periodic jobs: how they repeat, and the WeChat Pay reconciliation.

Why apart from the channel: the channel module is about answering messages; the jobs (recovering
unanswered messages, asking WeChat Pay about payments whose notification is late) only repeat a call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.channels.wechat.pay import WeChatPayProvider
from commerce_core.api import DomainError

log = logging.getLogger(__name__)


async def every(stop: asyncio.Event, seconds: float, job: Callable[[], Awaitable[Any]], what: str) -> None:
    """Run ``job`` every ``seconds`` until ``stop`` is set; a failure is logged (as ``what`` failing)
    and the next run comes as usual."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)
            return
        try:
            await job()
        except Exception:
            log.exception("wechat: %s failed", what)


async def reconcile_payments(pay: WeChatPayProvider, commerce: Any, query_after_seconds: float) -> int:
    """Ask WeChat Pay about payments whose notification is late; apply what it says. Returns how many."""
    applied = 0
    window = commerce.orders.policy.payment_window.total_seconds()
    for reference in await pay.due_for_query(query_after_seconds):
        note = await pay.query_notification(reference)
        if note is None:
            continue
        try:
            await commerce.payments.apply(pay.name, note)
        except DomainError as error:  # unknown payment or amount mismatch: a person must look
            log.warning("wechat pay: queried payment %s refused (%s)", reference, error.code)
        else:
            applied += 1
        await pay.settled(reference)
    stale = await pay.due_for_query(window * 2)
    for reference in stale:  # long past the payment window: the order has expired by now
        await pay.settled(reference)
    return applied
