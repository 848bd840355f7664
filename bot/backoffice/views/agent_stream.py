"""The console's live updates: a Server-Sent Events stream that says "changed" within a poll interval
of a shopper's message, a claim, a reply or a resolution, so the queue and the open conversation
refresh themselves without a reload (``static/agent.js`` fetches the fragment again).

Why poll the database's fingerprint rather than a message bus: the shopper's message is written by
whichever process ran the turn, and the database is the one thing every process shares; one small
indexed query per open console every quarter second is far cheaper than the pages it saves, and it
cannot miss an event the way a dropped pub/sub message would.
"""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from bot.backoffice.views.agent_desk import desk

KEEPALIVE_SECONDS = 15.0
#: how often the stream also times out handoffs nobody claimed (each stream does, cheaply: one UPDATE)
SWEEP_SECONDS = 10.0


async def stream(request: web.Request) -> web.StreamResponse:
    agent_desk = desk(request)
    support = agent_desk.support
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",  # a buffering proxy would hold the events back
        }
    )
    watch = agent_desk.watch
    # the fingerprint before the stream opens: the page refreshes its parts when the stream opens
    # (static/agent.js), so whatever changed before this is in that refresh and whatever changes after
    # is an event. Taken after opening, a ticket created between the page's render and the stream's
    # start was in neither (a queue that stayed empty: the browser handoff test, under load)
    seen = await watch.current(support, agent_desk.poll_seconds / 2)
    await response.prepare(request)
    await response.write(b"retry: 1000\n\n")
    started = last_write = time.monotonic()
    try:
        while time.monotonic() - started < agent_desk.stream_seconds:
            await asyncio.sleep(agent_desk.poll_seconds)
            moment = time.monotonic()
            await watch.sweep(support, SWEEP_SECONDS)
            current = await watch.current(support, agent_desk.poll_seconds / 2)
            if current != seen:
                seen = current
                fingerprint = ".".join(str(part) for part in current)
                await response.write(f"event: changed\ndata: {fingerprint}\n\n".encode())
                last_write = moment
            elif moment - last_write > KEEPALIVE_SECONDS:
                await response.write(b": keep-alive\n\n")
                last_write = moment
    except (ConnectionResetError, asyncio.CancelledError):  # the console tab went away
        return response
    return response
