"""Staff's view of turns that failed N times (dead letters): what the shopper said, why it failed, and
a button that runs the turn again and sends the shopper its answer.

The recovery port (:class:`bot.turns.TurnRecovery`) comes from the main app (``request.config_dict``),
set by bootstrap's back-office installer, so the back office itself stays buildable without a runtime.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from aiohttp import web

from bot.backoffice.pages import flash, operators, redirect, render, visit
from bot.turns import TurnRecovery

log = logging.getLogger(__name__)
RECOVERY: web.AppKey[Callable[[], TurnRecovery]] = web.AppKey("turn_recovery")
LETTER_ID = re.compile(r"^[0-9]{13}-[0-9a-f]{8}$")


def _recovery(request: web.Request) -> TurnRecovery:
    found = request.config_dict.get(RECOVERY)
    if found is None:
        raise web.HTTPNotFound()
    return found()


async def dead_letters(request: web.Request) -> web.StreamResponse:
    letters = await _recovery(request).entries()
    return render(request, "dead_letters.html", letters=letters)


async def retry(request: web.Request) -> web.StreamResponse:
    letter_id = request.match_info["letter_id"]
    if not LETTER_ID.match(letter_id):
        raise web.HTTPNotFound()
    recovery = _recovery(request)
    try:
        replies = await recovery.retry(letter_id)
    except Exception:  # the turn failed again: the letter stays, staff see it and can try later
        log.exception("dead letter %s: retry failed", letter_id)
        flash(request, "dead_letters.failed")
    else:
        flash(request, "dead_letters.gone" if replies is None else "dead_letters.retried")
        if replies is not None:
            actor = visit(request).actor
            await operators(request).record(actor, "dead_letter.retry", "dead_letter", letter_id)
    raise redirect(request, "dead_letters")
