"""A shopper reports a listing from its product card (R4.3-3): pick a reason, and the listing goes to
the reviewers' queue (and, per the core's policy, back into review off sale).

The reporter is the customer of this conversation, never anything in the button; one report per
shopper and listing counts (a second press is thanked, not counted again).
"""

from __future__ import annotations

from commerce_core.api import NotFound
from dialogs.context import Turn
from dialogs.messages import Button
from dialogs.payloads import REPORT_REASONS, ReportListingReason


async def ask(turn: Turn, code: str) -> None:
    buttons = [
        b
        for reason in REPORT_REASONS
        for b in Button.offer(turn.t(f"listings.report.reason.{reason}"), ReportListingReason(reason, code))
    ]
    turn.say("listings.report.ask", *buttons)


async def report(turn: Turn, code: str, reason: str) -> None:
    customer_id = await turn.ensure_customer()
    try:
        counted = await turn.commerce.listings.report(code, customer_id, reason)
    except NotFound:
        turn.say("listings.report.gone")
        return
    turn.say("listings.report.thanks" if counted else "listings.report.already")
