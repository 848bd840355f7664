"""Shoppers report a listing from its product card, and merchants hear review decisions (R4.3-2/3).

Through the real Telegram webhook, pipeline, outbox and a recording bot session: the card has a
"Report" button; the reason buttons come next; the report takes the listing back into review; the
reviewer's decision reaches the merchant's bound Telegram chat in the merchant's language.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.session import RecordingSession
from bot.runtime import Runtime
from commerce_core.api import REPORT_REASONS
from dialogs import payloads
from tests.merchants.conftest import Team, bind
from tests.merchants.listing_helpers import entry
from tests.telegram.conftest import Shopper
from tests.telegram.test_purchase import Conversation

Client = TestClient[web.Request, web.Application]
OWNER_CHAT = "8101"


def test_the_report_buttons_offer_exactly_the_cores_reasons() -> None:
    assert payloads.REPORT_REASONS == REPORT_REASONS
    wire = payloads.ReportListingReason("false_claims", "N1").encode()
    assert payloads.decode(wire) == payloads.ReportListingReason("false_claims", "N1")


async def test_a_report_from_the_card_puts_the_listing_back_in_review_and_the_merchant_hears_the_decision(
    client: Client, channel: TelegramChannel, session: RecordingSession, runtime: Runtime, team: Team
) -> None:
    commerce = runtime.commerce
    await bind(commerce, team.owner_a, OWNER_CHAT)
    detail = await commerce.listings.submit(team.acme, entry("RPT1"), actor="operator:test")
    assert detail.pending is not None
    await commerce.listing_reviews.decide(detail.pending.id, approve=True, actor="operator:rita")
    before = len(session.calls)
    await runtime.relay_notifications()
    told = [c for c in session.calls[before:] if c.method == "sendMessage" and c.chat_id == OWNER_CHAT]
    assert len(told) == 1 and "Review passed: Summer chiffon maxi dress (RPT1)" in str(told[0].params["text"])

    conv = Conversation(client, channel, session)
    shopper = Shopper(user_id=7101, lang="en", name="Sam")
    await conv.post(shopper.tap("t|" + payloads.ShowProduct("RPT1").encode()))
    await conv.post(shopper.tap(conv.callback("t|rpt:RPT1")))
    assert "What is wrong with this listing?" in conv.text
    await conv.post(shopper.tap(conv.callback("t|rptr:false_claims:RPT1")))
    assert "Our reviewers will look at this listing" in conv.text
    assert (await commerce.catalog.get_product("RPT1", live_only=False)).status == "pending_review"

    item = next(i for i in await commerce.listing_reviews.queue() if i.product_code == "RPT1")
    assert item.kind == "report" and item.note == "false_claims"
    await commerce.listing_reviews.decide(
        item.id, approve=False, actor="operator:rita", reason="Unproven claims"
    )
    before = len(session.calls)
    await runtime.relay_notifications()
    told = [c for c in session.calls[before:] if c.method == "sendMessage" and c.chat_id == OWNER_CHAT]
    assert len(told) == 1 and "Review not passed" in str(told[0].params["text"])
    assert "Reason: Unproven claims" in str(told[0].params["text"])
    assert (await commerce.catalog.get_product("RPT1", live_only=False)).status == "rejected"

    await conv.post(shopper.tap("t|rptr:other:RPT1"))  # an old button: the listing is off sale
    assert "no longer on sale" in conv.text
