"""Listings going live or leaving sale reach every process's search and NLU (R4.3-2, R4.2-3): the
reviewer's approval, an approved new version of a live listing and a listing taken off sale each
announce a catalogue change through the outbox, and a process's catalogue sync then reloads its terms
(before the relay runs, the NLU does not know the new listing: the announcement is what teaches it)."""

from __future__ import annotations

from bot.catalogue_sync import VERSION_KEY
from bot.runtime import Runtime
from commerce_core.api import ListingContent, ListingStatus
from tests.commerce.factory import names
from tests.merchants.conftest import Team
from tests.merchants.listing_helpers import entry


async def matched(runtime: Runtime, text: str) -> set[str]:
    parsed = await runtime.interpreter.parse(text)
    return {e.value for e in parsed.entities if e.type == "product"}


async def _decide_open(runtime: Runtime, code: str) -> None:
    queue = await runtime.commerce.listing_reviews.queue(limit=200)
    (item,) = [i for i in queue if i.product_code == code]
    await runtime.commerce.listing_reviews.decide(item.id, approve=True, actor="operator:rev")


async def test_approval_and_delisting_announce_and_every_process_reloads(
    runtime: Runtime, team: Team
) -> None:
    """R4.3-2: approved -> the NLU matches it after the sync; off sale -> it no longer does."""
    commerce, redis = runtime.commerce, runtime.container.redis
    await runtime.catalogue_sync.check()  # the baseline this process has seen
    await commerce.listings.submit(team.acme, entry("X1"), actor="operator:acme")
    await _decide_open(runtime, "X1")
    assert "X1" not in await matched(runtime, "Summer chiffon maxi dress")
    before = await redis.get(VERSION_KEY)

    await runtime.relay_notifications()
    assert await redis.get(VERSION_KEY) != before  # announced by the outbox subscriber
    assert await runtime.catalogue_sync.check() is True
    assert "X1" in await matched(runtime, "Summer chiffon maxi dress")

    # a new version of the live listing, approved: its new words are learnt the same way
    revised = entry("X1")
    content = ListingContent(
        name=names("夏日亚麻长裙", "Breezy linen maxi dress"),
        description=revised.content.description,
        attributes=revised.content.attributes,
        images=revised.content.images,
    )
    await commerce.listings.edit(team.acme, "X1", content, actor="operator:acme")
    await _decide_open(runtime, "X1")
    await runtime.relay_notifications()
    assert await runtime.catalogue_sync.check() is True
    assert "X1" in await matched(runtime, "Breezy linen maxi dress")

    # leaves sale: announced again, and this process stops matching it
    await commerce.catalog.change_status("X1", ListingStatus.DELISTED, actor="operator:rev", reason="test")
    await runtime.relay_notifications()
    assert await runtime.catalogue_sync.check() is True
    assert "X1" not in await matched(runtime, "Breezy linen maxi dress")
    await runtime.relay_notifications()
    assert await runtime.catalogue_sync.check() is False  # nothing more announced
