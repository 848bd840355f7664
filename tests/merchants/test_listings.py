"""Listing moderation in the core (R4.3-1/2/3, R4.1-2), on SQLite and PostgreSQL: a submitted listing
waits for review with the checks' findings; approval puts it on sale and tells the merchant; a live
listing's new version waits while the old one stays on sale; stock and price apply at once and a big
price move is flagged; a shopper's report takes a listing back to review; another merchant's listing
is "not found"."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from commerce_core.api import (
    Commerce,
    IllegalTransition,
    InvalidInput,
    ListingContent,
    NotFound,
    SearchQuery,
)
from commerce_core.outbox.model import OutboxMessage
from tests.merchants.conftest import Team
from tests.merchants.listing_helpers import both_databases, entry

ACTOR = "operator:test"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return both_databases(request, tmp_path)


async def _events(commerce: Commerce, name: str) -> list[dict[str, object]]:
    async with commerce.units.orm() as uow:
        rows = await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.event_type == name))
        return [dict(r.payload) for r in rows]


async def test_a_submission_waits_for_review_with_findings_then_goes_live(
    commerce: Commerce, team: Team
) -> None:
    detail = await commerce.listings.submit(team.acme, entry("N1", description="全网最好的裙子"), actor=ACTOR)
    assert detail.product.status == "pending_review"
    assert detail.pending is not None and detail.pending.kind == "submission"
    assert [(f.code, f.field) for f in detail.pending.findings] == [("advertising_terms", "description")]
    with pytest.raises(NotFound):
        await commerce.catalog.get_product("N1")  # not on sale before a reviewer says so

    queue = await commerce.listing_reviews.queue()
    item = next(i for i in queue if i.product_code == "N1")
    assert item.merchant_code == "acme" and item.findings[0].detail == "全网最好"
    with pytest.raises(InvalidInput):
        await commerce.listing_reviews.decide(item.id, approve=False, actor=ACTOR, reason=" ")
    await commerce.listing_reviews.decide(item.id, approve=False, actor=ACTOR, reason="No absolute claims")
    rejected = await commerce.listings.detail(team.acme, "N1")
    assert rejected.product.status == "rejected" and rejected.latest is not None
    assert rejected.latest.decision_reason == "No absolute claims"

    fixed = ListingContent(**{**_content(rejected), "description": {"zh-Hans": "雪纺面料，棉质内衬"}})
    again = await commerce.listings.edit(team.acme, "N1", fixed, actor=ACTOR)
    assert again.product.status == "pending_review" and again.pending is not None
    assert again.pending.findings == ()
    await commerce.listing_reviews.decide(again.pending.id, approve=True, actor=ACTOR)
    assert (await commerce.catalog.get_product("N1")).status == "live"
    with pytest.raises(IllegalTransition):
        await commerce.listing_reviews.decide(again.pending.id, approve=True, actor=ACTOR)
    told = await _events(commerce, "ListingReviewed")
    assert [(e["product_code"], e["decision"]) for e in told] == [("N1", "rejected"), ("N1", "approved")]
    page = await commerce.catalog.search(SearchQuery(text="雪纺长裙"))
    assert "N1" in [p.code for p in page.items]


def _content(detail: object) -> dict[str, object]:
    product = detail.product  # type: ignore[attr-defined]
    return {
        "name": product.name,
        "description": product.description,
        "attributes": product.attributes,
        "images": product.images,
        "brand": product.brand,
    }


async def test_a_live_listings_new_version_waits_while_the_old_one_sells(
    commerce: Commerce, team: Team
) -> None:
    detail = await commerce.listings.submit(team.acme, entry("N2"), actor=ACTOR)
    assert detail.pending is not None
    await commerce.listing_reviews.decide(detail.pending.id, approve=True, actor=ACTOR)
    new = ListingContent(**{**_content(detail), "name": {"en": "Chiffon maxi dress, new cut"}})
    edited = await commerce.listings.edit(team.acme, "N2", new, actor=ACTOR)
    assert (
        edited.product.status == "live" and edited.pending is not None and edited.pending.kind == "revision"
    )
    live = await commerce.catalog.get_product("N2")
    assert live.name["en"] == "Summer chiffon maxi dress"  # the approved version is still what sells
    await commerce.listing_reviews.decide(edited.pending.id, approve=True, actor=ACTOR)
    assert (await commerce.catalog.get_product("N2")).name == {"en": "Chiffon maxi dress, new cut"}

    # stock and price: at once, no review; a big move is flagged to staff
    await commerce.listings.set_stock(team.acme, "N2-RED-M", 42, actor=ACTOR)
    assert (await commerce.listings.detail(team.acme, "N2")).stock == {"N2-RED-M": 42}
    assert await commerce.listings.set_price(team.acme, "N2-RED-M", 26900, actor=ACTOR) is False
    assert await commerce.listings.set_price(team.acme, "N2-RED-M", 99900, actor=ACTOR) is True
    shown = await commerce.catalog.get_product("N2")
    assert shown.status == "live" and shown.min_price.amount == 99900
    flags = [i for i in await commerce.listing_reviews.queue() if i.product_code == "N2"]
    assert [i.kind for i in flags] == ["price"] and "26900 -> 99900" in flags[0].findings[0].detail


async def test_a_shoppers_report_puts_the_listing_back_in_review(commerce: Commerce, team: Team) -> None:
    detail = await commerce.listings.submit(team.acme, entry("N3"), actor=ACTOR)
    assert detail.pending is not None
    await commerce.listing_reviews.decide(detail.pending.id, approve=True, actor=ACTOR)
    with pytest.raises(InvalidInput):
        await commerce.listings.report("N3", team.shopper, "because")
    assert await commerce.listings.report("N3", team.shopper, "false_claims") is True
    with pytest.raises(NotFound):
        await commerce.catalog.get_product("N3")  # off sale until a reviewer looks
    item = next(i for i in await commerce.listing_reviews.queue() if i.product_code == "N3")
    assert item.kind == "report" and item.note == "false_claims"
    await commerce.listing_reviews.decide(item.id, approve=True, actor=ACTOR)  # the listing is fine
    assert (await commerce.catalog.get_product("N3")).status == "live"


async def test_merchant_b_cannot_read_or_change_merchant_as_listing(commerce: Commerce, team: Team) -> None:
    await commerce.listings.submit(team.acme, entry("N4"), actor=ACTOR)
    content = ListingContent(name={"en": "mine now"}, description={"en": "x"})
    with pytest.raises(NotFound):
        await commerce.listings.detail(team.bolt, "N4")
    with pytest.raises(NotFound):
        await commerce.listings.edit(team.bolt, "N4", content, actor=ACTOR)
    with pytest.raises(NotFound):
        await commerce.listings.set_stock(team.bolt, "N4-RED-M", 0, actor=ACTOR)
    with pytest.raises(NotFound):
        await commerce.listings.set_price(team.bolt, "N4-RED-M", 1, actor=ACTOR)
    mine = await commerce.listings.detail(team.acme, "N4")
    assert mine.product.name["en"] == "Summer chiffon maxi dress" and mine.stock == {"N4-RED-M": 8}
